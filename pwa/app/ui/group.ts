// Screen 2 (UX.md): who is here, your own ID, invite, and a Call button per person.
import { LitElement, html, css } from "lit";
import type { MemberInfo } from "../../../protocol/messages.ts";
import type { LinkStatus } from "../connection.ts";
import { backIcon, gearIcon, phoneIcon } from "./icons.ts";
import { base } from "./styles.ts";

const LINK_TEXT: Record<LinkStatus, string> = {
  connecting: "Connecting…",
  online: "Online",
  reconnecting: "Reconnecting…",
  offline: "Offline",
  replaced: "Open in another tab",
};

const STATUS_TEXT: Record<MemberInfo["status"], string> = {
  available: "Available",
  ringing: "On a call",
  "in-call": "On a call",
};

export class VsGroup extends LitElement {
  static properties = {
    group: {},
    me: {},
    members: { attribute: false },
    link: {},
    retryIn: { attribute: false },
  };
  declare group: string;
  declare me: string | null;
  declare members: MemberInfo[];
  declare link: LinkStatus;
  declare retryIn: number | null;

  static styles = [
    base,
    css`
      header { display: flex; align-items: center; gap: 10px; }
      .title { flex: 1; min-width: 0; display: grid; }
      .title h1 { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
      .link { display: inline-flex; align-items: center; gap: 6px; }
      .status-line { background: var(--surface-2); border-radius: 12px; padding: 10px 14px; }
      .me { display: grid; gap: 4px; text-align: center; }
      .me .id { font-size: 2.6rem; font-weight: 700; }
      .me-actions { display: flex; gap: 10px; justify-content: center; flex-wrap: wrap; }
      ul { list-style: none; margin: 0; padding: 0; display: grid; gap: 10px; }
      li { display: flex; align-items: center; gap: 12px; }
      li .who { display: grid; }
      li .id { font-size: 1.25rem; font-weight: 600; }
      .empty { text-align: center; padding: 24px 8px; }
    `,
  ];

  constructor() {
    super();
    this.group = "";
    this.me = null;
    this.members = [];
    this.link = "connecting";
    this.retryIn = null;
  }

  private fire(name: string, detail?: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  private statusLine() {
    if (this.link === "online" || this.link === "connecting") return null;
    if (this.link === "replaced")
      return html`<div class="status-line row" role="status">
        <span>This group is open in another tab.</span><span class="spacer"></span>
        <button @click=${() => this.fire("take-over")}>Use here</button>
      </div>`;
    const wait = this.retryIn ? ` Retrying in ${this.retryIn} s…` : navigator.onLine ? " Retrying…" : " Waiting for a network…";
    return html`<div class="status-line" role="status">Couldn't reach the server.${wait}</div>`;
  }

  override render() {
    const others = this.members.filter((m) => m.id !== this.me);
    const online = this.link === "online";
    return html`<main class="screen">
      <header>
        <button class="ghost" aria-label="Leave group" @click=${() => this.fire("leave")}>${backIcon}</button>
        <div class="title">
          <h1>${this.group}</h1>
          <span class="link small muted" role="status" aria-label=${`Connection: ${LINK_TEXT[this.link]}`}>
            <span class="dot ${this.link} ${this.link === "reconnecting" ? "pulse" : ""}"></span>${LINK_TEXT[this.link]}
          </span>
        </div>
        <button class="ghost" aria-label="Settings" @click=${() => this.fire("open-settings")}>${gearIcon}</button>
      </header>
      ${this.statusLine()}
      <section class="me card" aria-label="Your ID">
        <span class="muted small">Your ID</span>
        <span class="id mono" data-testid="my-id">${this.me ?? "……"}</span>
        <div class="me-actions">
          <button ?disabled=${!this.me} @click=${() => this.fire("copy-id")}>Copy ID</button>
          <button class="primary" aria-label="Invite someone to this group" @click=${() => this.fire("invite")}>Invite</button>
        </div>
      </section>
      <section aria-labelledby="people-h">
        <h2 id="people-h">People here</h2>
        ${others.length === 0
          ? html`<p class="empty muted">No one else is here yet — share the invite.</p>`
          : html`<ul>
              ${others.map(
                (m) => html`<li class="card" data-member=${m.id}>
                  <span class="who"><span class="id mono">${m.id}</span><span class="small muted">${STATUS_TEXT[m.status]}</span></span>
                  <span class="spacer"></span>
                  <button class="primary" aria-label=${`Call ${m.id}`} ?disabled=${!online || m.status !== "available"} @click=${() => this.fire("call", m.id)}>
                    ${phoneIcon} Call
                  </button>
                </li>`,
              )}
            </ul>`}
      </section>
    </main>`;
  }
}
customElements.define("vs-group", VsGroup);
