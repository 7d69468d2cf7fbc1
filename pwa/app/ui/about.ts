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
      code, .credits { overflow-wrap: anywhere; }
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
      <p>Each call makes fresh keys. The first time you call someone, you both see a <strong>safety code</strong> of
        four pictures: read them aloud to each other. If they match, tap <strong>They match</strong> — that person is
        then a <strong>verified contact</strong> on this phone, and later calls say "Verified" with nothing to compare,
        because their phone proves it is the same phone. If they don't match, tap <strong>They don't match</strong>:
        the call ends and the other person is told.</p>
      <p>Until you have compared the pictures, a call says "Encrypted · not verified yet": encrypted, but a server
        that swapped the keys could be in the middle. If a verified contact's phone ever answers with another key,
        the call ends with a warning before any audio is sent. A private group's invite link adds a key the server
        never sees, so it cannot sit in the middle of calls in that group even before anyone compares anything.</p>
      <p>What the server does see: the group name, the names and IDs of the people in it, when they were online, and
        who calls whom and when. Every call sends the same amount of data whether you talk or not.</p>
      <p><strong>The limit:</strong> this app's code comes from the server. A server that sent you altered code could
        get around every check above. Settings shows this app's build, which you can compare with the published
        release.</p>
      <p class="small muted credits" data-testid="credits">The safety-code pictures come with the app, so both phones show the same
        ones: Twemoji graphics © Twitter, Inc. and other contributors, licensed under CC-BY 4.0
        (creativecommons.org/licenses/by/4.0).</p>
    </section>`;
  }

  private trust() {
    return html`<section>
      <p>Your browser doesn't trust this server's certificate yet. On Android and on computers, calls still work after
        you accept the warning, and they are still encrypted from your device to the other person's. iPhones and iPads
        need the certificate trusted before calls work at all. And no phone will let voicesrv work offline or be added to
        the home screen until it trusts the certificate.</p>
      <h2>To fix it</h2>
      ${this.caAvailable
        ? html`<ol>
            <li><a class="button primary" href="/ca.pem" download>Download this server's certificate</a></li>
            <li data-testid="compare-fingerprint">Before you install it, compare its fingerprint: your phone shows a SHA-256 fingerprint
              for the certificate (iPhone: in the profile, More Details; Android: while installing), and whoever runs the server
              sees the same one as "CA SHA-256" in <code>voicesrv cert show</code>. Install it only if every character matches.</li>
            <li>Install it as a trusted certificate authority (on Android: Settings → Security → Encryption & credentials →
              Install a certificate → CA certificate; on iPhone: open the file, then Settings → General → VPN & Device
              Management → install the downloaded profile, then Settings → General → About → Certificate Trust Settings
              and switch it on).</li>
            <li>Reload this page.</li>
          </ol>`
        : html`<p>Ask whoever runs this server to use a trusted certificate (for example through a tunnel or a proxy with a
            public certificate), or to set up their own certificate authority (<code>voicesrv cert ca</code>) so phones can
            install it here.</p>
            <p data-testid="compare-fingerprint">Until then, before you accept the warning, compare the certificate's SHA-256
              fingerprint (your browser shows it when you view the certificate) with the one whoever runs the server sees in
              <code>voicesrv cert show</code>.</p>`}
      <p class="small muted">This page can't show the fingerprint for you: a page from a server your phone doesn't trust
        yet can't vouch for its own certificate — only the comparison with what the person who runs it sees can.</p>
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
