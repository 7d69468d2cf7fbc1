// Screen 6 (UX.md): the call is over and the user must understand why, in plain words.
import { LitElement, html, css } from "lit";
import type { CallView } from "../call-controller.ts";
import { warnIcon } from "./icons.ts";
import { base } from "./styles.ts";

export class VsSecurityFailure extends LitElement {
  static properties = { view: { attribute: false } };
  declare view: CallView;

  static styles = [
    base,
    css`
      :host { position: fixed; inset: 0; z-index: 20; background: var(--bad); color: var(--bad-text); overflow: auto; }
      .screen { justify-content: center; text-align: center; gap: 24px; }
      .icon { font-size: 3.5rem; }
      p { max-width: 30em; margin: 0 auto; }
      button { background: var(--bad-text); color: var(--bad); border-color: var(--bad-text); font-weight: 600; align-self: center; min-width: 200px; }
    `,
  ];

  override render() {
    return html`<main class="screen" role="alertdialog" aria-labelledby="sf-h" aria-describedby="sf-text">
      <div class="icon">${warnIcon}</div>
      <h1 id="sf-h">Call ended for your safety</h1>
      <p id="sf-text" data-testid="failure-text">${this.view.failureText}</p>
      <p>
        ${this.view.failureKind === "sas" || this.view.failureKind === "peer-sas"
          ? html`You and ${this.view.peer || "the other person"} saw different safety codes, so the call was ended. Someone
              may have been relaying it. Call again and compare the new code; if it differs again, talk in person, try
              another network, and tell whoever runs this server.`
          : html`Your phone and ${this.view.peer || "the other person's"} couldn't agree on keys, so the call was ended
              before any audio was sent. Someone may be in the middle — or the network garbled the setup. Try again; if
              it keeps happening, try another network and tell whoever runs this server.`}
      </p>
      <button @click=${() => this.dispatchEvent(new CustomEvent("dismiss", { bubbles: true, composed: true }))}>OK</button>
    </main>`;
  }
}
customElements.define("vs-security-failure", VsSecurityFailure);
