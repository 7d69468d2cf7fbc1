// Screen 4 (UX.md): full-screen incoming call. Accept is where the microphone is requested,
// because browsers only allow it from a tap.
import { LitElement, html, css } from "lit";
import type { CallView } from "../call-controller.ts";
import { base } from "./styles.ts";

export class VsIncoming extends LitElement {
  static properties = { view: { attribute: false } };
  declare view: CallView;

  static styles = [
    base,
    css`
      :host { position: fixed; inset: 0; background: var(--bg); z-index: 10; overflow: auto; }
      .screen { justify-content: space-between; text-align: center; }
      .who { margin-top: 14vh; display: grid; gap: 12px; }
      .peer { font-size: min(2.8rem, 12vw); font-weight: 700; overflow-wrap: anywhere; }
      /* Side by side while they fit; at large text sizes Accept and Decline stack, full width. */
      .actions { display: flex; flex-wrap: wrap; justify-content: space-around; gap: 16px; padding-bottom: 32px; }
      .actions button { flex: 1 1 7em; max-width: 200px; min-height: 72px; font-size: 1.15rem; }
    `,
  ];

  private fire(name: string): void {
    this.dispatchEvent(new CustomEvent(name, { bubbles: true, composed: true }));
  }

  override render() {
    return html`<main class="screen" role="alertdialog" aria-labelledby="incoming-h" aria-describedby="incoming-peer">
      <div class="who">
        <h1 id="incoming-h" class="pulse">Incoming call</h1>
        <span id="incoming-peer" class="peer mono" data-testid="peer">${this.view.peer}</span>
        <span class="muted">is calling you</span>
      </div>
      <div class="actions">
        <button class="danger" aria-label=${`Decline call from ${this.view.peer}`} @click=${() => this.fire("decline")}>Decline</button>
        <button class="good" aria-label=${`Accept call from ${this.view.peer}`} ?disabled=${this.view.answering} @click=${() => this.fire("accept")}>Accept</button>
      </div>
    </main>`;
  }
}
customElements.define("vs-incoming", VsIncoming);
