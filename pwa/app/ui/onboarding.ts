// First start (UX.md "People"): one question, one field, one button. The same rules as the
// server's (protocol/display-name.ts), so what is accepted here is accepted there.
import { LitElement, css, html } from "lit";
import { checkName, NAME_MAX_CHARS } from "../../../protocol/display-name.ts";
import { base } from "./styles.ts";

export class VsOnboarding extends LitElement {
  static properties = { raw: { state: true }, problem: { state: true }, heading: {}, initial: {} };
  declare raw: string;
  declare problem: string;
  declare heading: string;
  declare initial: string;

  static styles = [
    base,
    css`
      form { display: grid; gap: 12px; }
      label { font-weight: 600; font-size: 1.3rem; }
      .problem { color: var(--bad); min-height: 1.4em; }
    `,
  ];

  constructor() {
    super();
    this.raw = "";
    this.problem = "";
    this.heading = "Welcome to voicesrv";
    this.initial = "";
  }

  override firstUpdated(): void {
    this.raw = this.initial;
    this.renderRoot.querySelector("input")?.focus();
  }

  private submit(e: Event): void {
    e.preventDefault();
    const c = checkName(this.raw);
    if (!c.ok) {
      this.problem = c.problem === "empty" ? "Type a name, so people know who is calling." : c.problem === "too-long" ? `That's a little long — ${NAME_MAX_CHARS} characters at most.` : "Use letters, numbers, spaces and punctuation only.";
      return;
    }
    this.dispatchEvent(new CustomEvent("name", { detail: c.name, bubbles: true, composed: true }));
  }

  override render() {
    return html`<main class="screen">
      <h1>${this.heading}</h1>
      <form @submit=${this.submit}>
        <label for="name">What should your family call you?</label>
        <input id="name" type="text" autocomplete="nickname" enterkeyhint="done" maxlength="64" placeholder="e.g. Grandma, Sam"
          .value=${this.raw} @input=${(e: Event) => { this.raw = (e.target as HTMLInputElement).value; this.problem = ""; }}
          aria-describedby="name-help name-problem" />
        <p id="name-help" class="small muted">People in your groups see this name. You can change it later in Settings.</p>
        <p id="name-problem" class="problem small" role="alert">${this.problem}</p>
        <button class="primary" type="submit">Continue</button>
      </form>
    </main>`;
  }
}
customElements.define("vs-onboarding", VsOnboarding);
