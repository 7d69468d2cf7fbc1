// Screen 3 (UX.md): calling someone, and how an unanswered call ended.
import { LitElement, html, css } from "lit";
import type { CallView } from "../call-controller.ts";
import { base } from "./styles.ts";

export class VsOutgoing extends LitElement {
  static properties = { view: { attribute: false } };
  declare view: CallView;

  static styles = [
    base,
    css`
      .screen { justify-content: space-between; text-align: center; }
      .who { margin-top: 12vh; display: grid; gap: 12px; }
      .peer { font-size: min(2.6rem, 11vw); font-weight: 700; overflow-wrap: anywhere; }
      .state { font-size: 1.2rem; }
      .state.ended { font-weight: 600; }
      .actions { display: flex; justify-content: center; padding-bottom: 24px; }
      .actions button { min-width: 160px; min-height: 64px; font-size: 1.1rem; }
    `,
  ];

  private fire(name: string): void {
    this.dispatchEvent(new CustomEvent(name, { bubbles: true, composed: true }));
  }

  override render() {
    const v = this.view;
    const ended = v.phase === "ended";
    return html`<main class="screen">
      <div class="who">
        <span class="muted">${ended ? "Call with" : "Calling"}</span>
        <span class="peer mono" data-testid="peer">${v.peer}</span>
        <span class="state ${ended ? "ended" : "pulse"}" data-testid="call-state">
          ${ended ? v.endedText : v.outgoing === "ringing" ? (v.pushed ? `Ringing ${v.peer}'s phone…` : "Ringing…") : "Calling…"}
        </span>
      </div>
      <div class="actions">
        ${ended
          ? html`<button @click=${() => this.fire("dismiss")}>Back</button>`
          : html`<button class="danger" aria-label="Cancel call" @click=${() => this.fire("hangup")}>Cancel</button>`}
      </div>
    </main>`;
  }
}
customElements.define("vs-outgoing", VsOutgoing);
