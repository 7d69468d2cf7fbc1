// Inviting someone (UX.md "People"): the share sheet where there is one, copy, and a QR code to
// scan with the other phone. For a private group the link carries the secret in its fragment
// (IDENTITY.md §3), so the sheet says plainly that the link is the key.
import { LitElement, css, html } from "lit";
import { backIcon } from "./icons.ts";
import { base } from "./styles.ts";
import "./qr-code.ts";

export class VsInviteSheet extends LitElement {
  static properties = { link: {}, group: {}, isPrivate: { type: Boolean }, copied: { state: true } };
  declare link: string;
  declare group: string;
  declare isPrivate: boolean;
  declare copied: boolean;

  static styles = [
    base,
    css`
      :host { position: fixed; inset: 0; z-index: 30; background: var(--bg); overflow: auto; }
      header { display: flex; align-items: center; gap: 10px; }
      vs-qr-code { max-width: 280px; width: 100%; margin: 0 auto; }
      .link { word-break: break-all; user-select: all; }
      .actions { display: flex; gap: 10px; flex-wrap: wrap; justify-content: center; }
    `,
  ];

  constructor() {
    super();
    this.link = "";
    this.group = "";
    this.isPrivate = false;
    this.copied = false;
  }

  private close(): void {
    this.dispatchEvent(new CustomEvent("close", { bubbles: true, composed: true }));
  }

  private async share(): Promise<void> {
    try {
      await navigator.share({ title: `Join ${this.group} on voicesrv`, text: "Private calls with me on voicesrv:", url: this.link });
    } catch {
      // dismissed, or refused: the link and the QR code are still here
    }
  }

  private async copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(this.link);
      this.copied = true;
    } catch {
      this.renderRoot.querySelector<HTMLElement>(".link")?.focus();
    }
  }

  override render() {
    return html`<main class="screen" aria-labelledby="invite-h">
      <header>
        <button class="ghost" aria-label="Close invite" @click=${() => this.close()}>${backIcon}</button>
        <h1 id="invite-h">Invite to ${this.group}</h1>
      </header>
      <p>${this.isPrivate
        ? "This link is the key to your private group: anyone who opens it can join. Send it only to people you want in the group."
        : "Anyone who opens this link can join the group."}</p>
      <vs-qr-code .text=${this.link} label=${`QR code of the invite link to ${this.group}`}></vs-qr-code>
      <p class="small muted">Scan it with the other phone's camera.</p>
      <p class="link mono small card" tabindex="0" data-testid="invite-link">${this.link}</p>
      <div class="actions">
        ${"share" in navigator ? html`<button class="primary" @click=${() => void this.share()}>Share…</button>` : null}
        <button @click=${() => void this.copy()}>${this.copied ? "Copied" : "Copy link"}</button>
      </div>
    </main>`;
  }
}
customElements.define("vs-invite-sheet", VsInviteSheet);
