// Screen 1 (UX.md): pick or type a group; the URL path is the group, so the preview shows
// exactly the address people will share.
import { LitElement, html, css } from "lit";
import { isValidGroupName, sanitizeGroupName, suggestGroupNames } from "../../../protocol/group-name.ts";
import type { RecentGroup } from "../db.ts";
import type { BadGroupLink } from "../group-link.ts";
import { isGuessableGroupName } from "../guessable-name.ts";
import { recentGroups } from "../recent-groups.ts";
import { gearIcon, lockIcon } from "./icons.ts";
import { base } from "./styles.ts";

export class VsLanding extends LitElement {
  static properties = {
    raw: { state: true },
    privateRaw: { state: true },
    recent: { state: true },
    suggestions: { state: true },
    badLink: { attribute: false },
  };
  declare badLink: BadGroupLink | null;
  declare raw: string;
  declare privateRaw: string;
  declare recent: RecentGroup[];
  declare suggestions: string[];

  static styles = [
    base,
    css`
      header { display: flex; align-items: center; gap: 12px; }
      header img { width: 40px; height: 40px; }
      .lead { font-size: 1.1rem; }
      form { display: grid; gap: 10px; }
      label { font-weight: 600; }
      .preview { min-height: 1.5em; }
      .warn-line { border-left: 4px solid var(--warn); padding-left: 10px; }
      .bad-link { display: grid; gap: 10px; border-left: 4px solid var(--warn); }
      .bad-link b { font-family: ui-monospace, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
      .preview b { font-family: ui-monospace, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
      .chips { display: flex; flex-wrap: wrap; gap: 8px; }
      ul { list-style: none; margin: 0; padding: 0; display: grid; gap: 8px; }
      section { display: grid; gap: 10px; }
      footer { margin-top: auto; display: flex; gap: 8px; flex-wrap: wrap; justify-content: center; }
    `,
  ];

  constructor() {
    super();
    this.raw = "";
    this.badLink = null;
    this.recent = [];
    this.suggestions = suggestGroupNames(4);
    this.privateRaw = this.suggestions.pop()!;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.refresh();
  }

  refresh(): void {
    void recentGroups().then((r) => (this.recent = r));
  }

  private get clean(): string {
    return sanitizeGroupName(this.raw);
  }

  private join(group: string): void {
    if (!isValidGroupName(group)) return;
    this.dispatchEvent(new CustomEvent("join", { detail: group, bubbles: true, composed: true }));
  }

  private onSubmit(e: Event): void {
    e.preventDefault();
    this.join(this.clean);
  }

  private onCreatePrivate(e: Event): void {
    e.preventDefault();
    const group = sanitizeGroupName(this.privateRaw);
    if (!isValidGroupName(group)) return;
    this.dispatchEvent(new CustomEvent("create-private", { detail: group, bubbles: true, composed: true }));
  }

  /** The address opened was not a group address: say what was wrong, offer the cleaned-up name. */
  private badLinkNotice() {
    const bad = this.badLink;
    if (!bad) return null;
    return html`<section class="bad-link card" role="alert" data-testid="bad-link">
      <p><b>${bad.shown}</b> isn't a group address. ${bad.reason}</p>
      ${bad.suggestion
        ? html`<p>Did you mean <b>${bad.suggestion}</b>?</p>
            <button class="primary" @click=${() => this.join(bad.suggestion)}>Open ${bad.suggestion} instead</button>`
        : html`<p>Nothing in it can be used as a group name: type the name below, or ask for the link again.</p>`}
    </section>`;
  }

  override render() {
    const clean = this.clean;
    return html`<main class="screen">
      <header>
        <img src="/favicon.svg" alt="" />
        <h1>voicesrv</h1>
        <span class="spacer"></span>
        <button class="ghost" aria-label="Settings" @click=${() => this.dispatchEvent(new CustomEvent("open-settings", { bubbles: true, composed: true }))}>${gearIcon}</button>
      </header>
      ${this.badLinkNotice()}
      <p class="lead">Private voice calls with your family and friends, encrypted from your phone to theirs.</p>
      <form @submit=${this.onSubmit}>
        <label for="group">Group name</label>
        <input id="group" type="text" autocomplete="off" autocapitalize="off" spellcheck="false" enterkeyhint="go"
          placeholder="e.g. My Family" .value=${this.raw} @input=${(e: Event) => (this.raw = (e.target as HTMLInputElement).value)}
          aria-describedby="preview" />
        <p id="preview" class="preview muted small" aria-live="polite">
          ${this.raw.trim() === "" ? html`Everyone who opens the same group address can see you and call you.`
            : clean ? html`Your group's address: <b>${location.host}/${clean}</b>`
            : html`Use letters or numbers.`}
        </p>
        ${clean && isGuessableGroupName(clean)
          ? html`<p class="warn-line small" data-testid="guessable">“${clean}” is easy to guess: anyone who tries it can see you and call you.
              For your family, create a private group below — only people you invite can join.</p>`
          : null}
        <button class="primary" type="submit" ?disabled=${!clean}>Join</button>
      </form>
      <section aria-labelledby="suggest-h">
        <h2 id="suggest-h" class="small muted">Or start a new group (hard to guess)</h2>
        <div class="chips">
          ${this.suggestions.map((s) => html`<button aria-label=${`Join new group ${s}`} @click=${() => this.join(s)}>${s}</button>`)}
        </div>
      </section>
      <section aria-labelledby="private-h" class="card">
        <h2 id="private-h">New private group</h2>
        <p class="small muted">Only people you send the invite link to can join — nobody can guess their way in.</p>
        <form @submit=${this.onCreatePrivate}>
          <label for="private-name" class="small">Name of the new group</label>
          <input id="private-name" type="text" autocomplete="off" autocapitalize="off" spellcheck="false"
            .value=${this.privateRaw} @input=${(e: Event) => (this.privateRaw = (e.target as HTMLInputElement).value)} />
          <button class="primary" type="submit" ?disabled=${!sanitizeGroupName(this.privateRaw)}>Create private group</button>
        </form>
      </section>
      ${this.recent.length > 0
        ? html`<section aria-labelledby="recent-h">
            <h2 id="recent-h" class="small muted">Recent groups</h2>
            <ul>
              ${this.recent.map((r) => html`<li><button class="recent" aria-label=${`Open group ${r.group}`} @click=${() => this.join(r.group)}>${r.group}</button></li>`)}
            </ul>
          </section>`
        : null}
      <footer>
        <button class="ghost" @click=${() => this.dispatchEvent(new CustomEvent("open-about", { bubbles: true, composed: true }))}>${lockIcon} How your calls are protected</button>
      </footer>
    </main>`;
  }
}
customElements.define("vs-landing", VsLanding);
