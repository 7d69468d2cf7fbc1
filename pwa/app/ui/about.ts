// "How your calls are protected" (landing link), and screen 7 (UX.md): what works without a
// trusted certificate and how to trust this server.
import { LitElement, html, css } from "lit";
import { backIcon } from "./icons.ts";
import { base } from "./styles.ts";

export class VsAbout extends LitElement {
  static properties = { topic: {}, caAvailable: { type: Boolean } };
  declare topic: "protection" | "trust";
  declare caAvailable: boolean;

  static styles = [
    base,
    css`
      :host { position: fixed; inset: 0; z-index: 30; background: var(--bg); overflow: auto; }
      header { display: flex; align-items: center; gap: 10px; }
      section { display: grid; gap: 10px; }
      ol, ul { margin: 0; padding-left: 1.3em; display: grid; gap: 6px; }
    `,
  ];

  constructor() {
    super();
    this.topic = "protection";
    this.caAvailable = false;
  }

  private protection() {
    return html`<section>
      <p>Your voice is encrypted on your device and only decrypted on the device of the person you call. The server
        only passes the scrambled audio along: it cannot listen, and nothing about your calls is stored.</p>
      <p>Each call makes fresh keys. When a call starts, you both see a <strong>safety code</strong> of four pictures.
        Read them aloud to each other: if they match, no one is listening in. If they don't match, hang up.</p>
      <p>What the server does see: the group name, the short IDs of the people in it, and who calls whom and when.</p>
    </section>`;
  }

  private trust() {
    return html`<section>
      <p>Calls work — they are still encrypted from your device to the other person's.</p>
      <p>But your browser doesn't trust this server's certificate yet, so it won't let voicesrv work offline or be added to
        your home screen as an app.</p>
      <h2>To fix it</h2>
      ${this.caAvailable
        ? html`<ol>
            <li><a class="button primary" href="/ca.pem" download>Download this server's certificate</a></li>
            <li>Install it as a trusted certificate authority (on Android: Settings → Security → Encryption & credentials →
              Install a certificate; on iPhone: open the file, then Settings → General → About → Certificate Trust Settings).</li>
            <li>Reload this page.</li>
          </ol>`
        : html`<p>Ask whoever runs this server to use a trusted certificate (for example through a tunnel or a proxy with a
            public certificate), or to share their certificate with you.</p>`}
    </section>`;
  }

  override render() {
    const title = this.topic === "trust" ? "Offline and home-screen use" : "How your calls are protected";
    return html`<main class="screen" aria-labelledby="about-h">
      <header>
        <button class="ghost" aria-label="Close" @click=${() => this.dispatchEvent(new CustomEvent("close", { bubbles: true, composed: true }))}>${backIcon}</button>
        <h1 id="about-h">${title}</h1>
      </header>
      ${this.topic === "trust" ? this.trust() : this.protection()}
    </main>`;
  }
}
customElements.define("vs-about", VsAbout);
