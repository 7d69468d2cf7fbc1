// Screen 2 (UX.md): the people in this group by name — online first, then offline with "last
// seen" — this person's own name and ID, invite, and a Call button per available person.
import { LitElement, html, css } from "lit";
import type { MemberInfo } from "../../../protocol/messages.ts";
import type { MissedCall } from "../missed-calls.ts";
import type { LinkStatus, Refusal } from "../connection.ts";
import { lastSeenText } from "../last-seen.ts";
import { backIcon, gearIcon, lockIcon, phoneIcon } from "./icons.ts";
import { base } from "./styles.ts";

const LINK_TEXT: Record<LinkStatus, string> = {
  connecting: "Connecting…",
  online: "Online",
  reconnecting: "Reconnecting…",
  offline: "Offline",
  replaced: "Open in another tab",
  refused: "Not joined",
};

const STATUS_TEXT: Record<MemberInfo["status"], string> = {
  available: "Available",
  ringing: "On a call",
  "in-call": "On a call",
};

/** What a refused join means for the person, and what they can do next. */
function refusalText(r: Refusal): { title: string; next: string } {
  switch (r.code) {
    case "not-invited":
      return { title: "This group is private.", next: "Ask someone in it to send you an invite link, and open that link on this phone." };
    case "group-exists":
      return { title: "A group with this name already exists.", next: "Go back and choose another name for your new group." };
    case "removed":
    case "removed-by-operator":
      return { title: "You were removed from this group.", next: "Ask the person who runs this server if that was a mistake." };
    case "group-deleted":
      return { title: "This group was deleted.", next: "Ask the person who runs this server, or start a new group." };
    case "id-taken":
      return { title: "Another phone already uses this app's ID in this group.", next: "In Settings, reset this phone's identity, then open the group again." };
    case "upgrade-required":
      return { title: "This app is out of date.", next: "Reload the page to get the current version." };
    case "group-full":
      return { title: "This group is full.", next: "Ask the person who runs this server to raise the limit." };
    case "too-many-groups":
      return { title: "This server has no room for another group.", next: "Ask the person who runs it." };
    default:
      return { title: "The server didn't let this phone join.", next: r.message };
  }
}

export class VsGroup extends LitElement {
  static properties = {
    group: {},
    me: {},
    myName: {},
    isPrivate: { type: Boolean },
    members: { attribute: false },
    link: {},
    retryIn: { attribute: false },
    refusal: { attribute: false },
    confirmLeave: { state: true },
    missed: { attribute: false },
    ringOffer: { type: Boolean },
  };
  /** Calls that rang this phone unanswered, newest first (issue #9). */
  declare missed: MissedCall[];
  /** Offer to ring this phone while the app is closed (after a call; never on load). */
  declare ringOffer: boolean;
  declare confirmLeave: boolean;
  declare group: string;
  declare me: string | null;
  declare myName: string;
  declare isPrivate: boolean;
  declare members: MemberInfo[];
  declare link: LinkStatus;
  declare retryIn: number | null;
  declare refusal: Refusal | null;

  static styles = [
    base,
    css`
      header { display: flex; align-items: center; gap: 10px; }
      .title { flex: 1; min-width: 0; display: grid; }
      .title h1 { display: flex; align-items: center; gap: 6px; min-width: 0; }
      /* Wraps rather than "rosewood-chr…": at large text sizes the whole name stays readable. */
      .title h1 span { min-width: 0; overflow-wrap: anywhere; }
      .link { display: inline-flex; align-items: center; gap: 6px; }
      .status-line { background: var(--surface-2); border-radius: 12px; padding: 10px 14px; }
      .me { display: grid; gap: 4px; text-align: center; }
      .me .name { font-size: 1.8rem; font-weight: 700; overflow-wrap: anywhere; }
      .me-actions { display: flex; gap: 10px; justify-content: center; flex-wrap: wrap; }
      ul { list-style: none; margin: 0; padding: 0; display: grid; gap: 10px; }
      li { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
      li .who { display: grid; min-width: 0; flex: 1; }
      li .name { font-size: 1.25rem; font-weight: 600; overflow-wrap: anywhere; }
      li.offline .name { color: var(--muted); }
      .empty { text-align: center; padding: 24px 8px; }
      .refused { display: grid; gap: 12px; }
      .leave { display: grid; gap: 8px; justify-items: center; text-align: center; margin-top: auto; }
    `,
  ];

  constructor() {
    super();
    this.group = "";
    this.me = null;
    this.myName = "";
    this.isPrivate = false;
    this.members = [];
    this.link = "connecting";
    this.retryIn = null;
    this.refusal = null;
    this.confirmLeave = false;
    this.missed = [];
    this.ringOffer = false;
  }

  private fire(name: string, detail?: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  private statusLine() {
    if (this.link === "online" || this.link === "connecting" || this.link === "refused") return null;
    if (this.link === "replaced")
      return html`<div class="status-line row" role="status">
        <span>You opened this group in another tab or window.</span><span class="spacer"></span>
        <button @click=${() => this.fire("take-over")}>Use here</button>
      </div>`;
    const wait = this.retryIn ? ` Retrying in ${this.retryIn} s…` : navigator.onLine ? " Retrying…" : " Waiting for a network…";
    return html`<div class="status-line" role="status">Couldn't reach the server.${wait}</div>`;
  }

  private person(m: MemberInfo, online: boolean) {
    const detail = m.online ? STATUS_TEXT[m.status] : lastSeenText(m.lastSeen);
    // Offline with a push subscription: the call rings their phone (the app says so while ringing).
    const callable = m.online || m.ringable === true;
    return html`<li class="card ${m.online ? "" : "offline"}" data-member=${m.id}>
      <span class="who">
        <span class="name">${m.name}</span>
        <span class="small muted" data-testid="member-status">${detail}</span>
      </span>
      ${callable
        ? html`<button class="primary" aria-label=${`Call ${m.name}`} ?disabled=${!online || m.status !== "available"} @click=${() => this.fire("call", m.id)}>
            ${phoneIcon} Call
          </button>`
        : null}
    </li>`;
  }

  private people() {
    const online = this.link === "online";
    const others = this.members.filter((m) => m.id !== this.me).sort((a, b) => Number(b.online) - Number(a.online) || b.lastSeen - a.lastSeen);
    if (others.length > 0) return html`<ul>${others.map((m) => this.person(m, online))}</ul>`;
    if (!online) return html`<p class="empty muted">The list of people appears when you are connected.</p>`;
    return html`<p class="empty muted">No one else has joined yet — invite them.</p>`;
  }

  private missedList() {
    if (this.missed.length === 0) return null;
    const online = this.link === "online";
    return html`<section aria-labelledby="missed-h">
      <h2 id="missed-h">Missed calls</h2>
      <ul>
        ${this.missed.map(
          (c) => html`<li class="card" data-missed=${c.callId}>
            <span class="who">
              <span class="name">${c.name}</span>
              <span class="small muted">${lastSeenText(c.at).replace(/^last seen /, "")}</span>
            </span>
            <button class="primary" aria-label=${`Call back ${c.name}`} ?disabled=${!online} @click=${() => this.fire("call-back", c)}>${phoneIcon} Call back</button>
            <button class="ghost" aria-label=${`Dismiss the missed call from ${c.name}`} @click=${() => this.fire("dismiss-missed", c.callId)}>Dismiss</button>
          </li>`,
        )}
      </ul>
    </section>`;
  }

  private offer() {
    if (!this.ringOffer) return null;
    return html`<section class="card" role="dialog" aria-labelledby="ring-offer-h" data-testid="ring-offer">
      <h2 id="ring-offer-h">Ring this phone when voicesrv is closed?</h2>
      <p class="small muted">Calls then ring even when the app isn't open. The server's notifications are encrypted to this phone.</p>
      <div class="me-actions">
        <button class="primary" @click=${() => this.fire("ringing-on")}>Turn on</button>
        <button @click=${() => this.fire("ringing-not-now")}>Not now</button>
      </div>
    </section>`;
  }

  override render() {
    const online = this.link === "online";
    const refused = this.link === "refused" && this.refusal ? refusalText(this.refusal) : null;
    return html`<main class="screen">
      <header>
        <button class="ghost" aria-label="Back to all groups" @click=${() => this.fire("leave")}>${backIcon}</button>
        <div class="title">
          <h1>${this.isPrivate ? html`${lockIcon}<span class="sr-only">Private group</span>` : null}<span>${this.group}</span></h1>
          <span class="link small muted" role="status" aria-label=${`Connection: ${LINK_TEXT[this.link]}`}>
            <span class="dot ${this.link} ${this.link === "reconnecting" ? "pulse" : ""}"></span>${LINK_TEXT[this.link]}
          </span>
        </div>
        <button class="ghost" aria-label="Settings" @click=${() => this.fire("open-settings")}>${gearIcon}</button>
      </header>
      ${this.statusLine()}
      ${refused
        ? html`<section class="refused card" role="alert">
            <h2>${refused.title}</h2>
            <p>${refused.next}</p>
            <button @click=${() => this.fire("leave")}>Back to all groups</button>
          </section>`
        : html`<section class="me card" aria-label="You">
              <span class="muted small">You appear as</span>
              <span class="name" data-testid="my-name">${this.myName}</span>
              <span class="small muted">ID <span class="mono" data-testid="my-id">${this.me ?? "……"}</span></span>
              <div class="me-actions">
                <button class="primary" ?disabled=${!online} aria-label="Invite someone to this group" @click=${() => this.fire("invite")}>Invite</button>
              </div>
            </section>
            ${this.offer()}
            ${this.missedList()}
            <section aria-labelledby="people-h">
              <h2 id="people-h">People in this group</h2>
              ${this.people()}
            </section>
            <section class="leave small">
              ${this.confirmLeave
                ? html`<p>Leave ${this.group} for good? You disappear from its list${this.isPrivate ? "; to come back you need the invite link again" : ""}.</p>
                    <div class="me-actions">
                      <button class="danger" @click=${() => this.fire("leave-group")}>Leave the group</button>
                      <button @click=${() => (this.confirmLeave = false)}>Stay</button>
                    </div>`
                : html`<button class="ghost" ?disabled=${!online} @click=${() => (this.confirmLeave = true)}>Leave this group…</button>`}
            </section>`}
    </main>`;
  }
}
customElements.define("vs-group", VsGroup);
