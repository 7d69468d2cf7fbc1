// Screen 5 (UX.md). The safety code is never behind a menu: it is the middle of the screen
// until both people said it matches. The output modes are called "Quiet" and "Speaker" on
// screen ("Private" read as a privacy setting); the stored value stays "private" so saved
// settings keep working.
import { LitElement, html, css, type PropertyValues } from "lit";
import type { CallView } from "../call-controller.ts";
import "./call-details.ts";
import { earIcon, hangupIcon, micIcon, micOffIcon, speakerIcon, sunIcon } from "./icons.ts";
import { sasPicture } from "../sas-art.ts";
import { base } from "./styles.ts";

function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(h ? 2 : 1, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export class VsInCall extends LitElement {
  static properties = {
    view: { attribute: false },
    reconnecting: { type: Boolean },
    now: { state: true },
    showCode: { state: true },
  };
  declare view: CallView;
  declare reconnecting: boolean;
  declare now: number;
  /** A verified contact's symbols are one tap away rather than in the way. */
  declare showCode: boolean;
  private tick: ReturnType<typeof setInterval> | null = null;

  static styles = [
    base,
    css`
      :host { position: fixed; inset: 0; background: var(--bg); z-index: 10; overflow: auto; }
      .top { text-align: center; display: grid; gap: 4px; }
      .peer { font-size: min(2.2rem, 10vw); font-weight: 700; overflow-wrap: anywhere; }
      .state { font-weight: 600; }
      .state.encrypted { color: var(--good); }
      .indicators { display: flex; justify-content: center; gap: 14px; flex-wrap: wrap; }
      .q-good { color: var(--good); } .q-fair { color: var(--warn); } .q-poor { color: var(--bad); }
      .meter { width: 64px; height: 8px; border-radius: 4px; background: var(--surface-2); overflow: hidden; display: inline-block; vertical-align: middle; }
      /* --level is set through CSSOM in updated(): a style attribute would break the CSP. */
      .meter span { display: block; height: 100%; width: calc(var(--level, 0) * 100%); background: var(--good); }
      vs-call-details { text-align: center; }
      .sas { display: grid; gap: 12px; text-align: center; container-type: inline-size; }
      .symbols { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 8px; list-style: none; margin: 0; padding: 0; }
      .symbols li { display: grid; gap: 2px; background: var(--surface-2); border-radius: 12px; padding: 10px 4px; min-width: 0; }
      /* Four in a row while the words fit under them; at large text sizes two rows of two,
         then one column (container units follow the text size, unlike media queries). */
      @container (max-width: 17em) { .symbols { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
      @container (max-width: 10em) {
        .symbols { grid-template-columns: minmax(0, 1fr); }
        .symbols li { grid-auto-flow: column; justify-content: center; align-items: center; gap: 12px; }
      }
      /* The picture grows with the text size, like the emoji it replaces (sas-art.ts). */
      .emoji { width: 2.4rem; height: 2.4rem; justify-self: center; }
      /* The words are what people read aloud: body size and weight, next to the picture. */
      .name { font-size: 1em; font-weight: 600; overflow-wrap: anywhere; }
      .verdict { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 8em), 1fr)); gap: 10px; }
      .verdict button { padding: 10px 8px; }
      .ind { display: inline-flex; align-items: center; gap: 4px; }
      .ind .icon { width: 16px; height: 16px; }
      .verified { color: var(--good); font-weight: 600; }
      .changed { background: var(--surface-2); border-left: 4px solid var(--warn); padding: 10px 12px; border-radius: 8px; text-align: left; }
      .show { justify-self: center; }
      .controls { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; margin-top: auto; }
      .volume { grid-column: 1 / -1; display: grid; gap: 4px; }
      .hangup { grid-column: 1 / -1; min-height: 64px; font-size: 1.15rem; }
      /* A banner, not a blocking layer: Hang up must stay reachable while reconnecting. */
      .overlay {
        position: fixed; z-index: 2; left: 0; right: 0; top: calc(8px + env(safe-area-inset-top));
        display: flex; justify-content: center; padding: 0 16px; pointer-events: none;
      }
      .overlay .card { display: grid; gap: 4px; max-width: 26em; text-align: center; background: var(--surface-2); pointer-events: auto; box-shadow: 0 4px 24px rgb(0 0 0 / 0.25); }
    `,
  ];

  constructor() {
    super();
    this.reconnecting = false;
    this.now = Date.now();
    this.showCode = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.tick = setInterval(() => (this.now = Date.now()), 1000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.tick) clearInterval(this.tick);
  }

  override updated(changed: PropertyValues): void {
    super.updated(changed);
    // CSSOM (element.style) is allowed by style-src 'self'; a style="" attribute is not.
    const meter = this.renderRoot.querySelector<HTMLElement>(".meter");
    meter?.style.setProperty("--level", String(Math.max(0, Math.min(1, this.view.micLevel))));
  }

  private fire(name: string, detail?: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  private sas() {
    const v = this.view;
    if (!v.encrypted || !v.sas) return html`<section class="sas card"><p class="muted">The safety code appears once the call is secured.</p></section>`;
    const spoken = v.sas.map((s) => s.name).join(", ");
    const verified = v.verification === "verified";
    if (verified && !this.showCode) {
      return html`<section class="sas card" aria-label="Verified contact">
        <p class="verified">✓ This is the phone you verified for ${v.contactName ?? v.peer}. No need to compare anything.</p>
        <button class="show" @click=${() => (this.showCode = true)}>Show safety code</button>
      </section>`;
    }
    return html`<section class="sas card" aria-labelledby="sas-h">
      <h2 id="sas-h">Safety code</h2>
      ${v.verification === "key-changed"
        ? html`<p class="changed" role="alert" data-testid="key-changed"><strong>New safety key for ${v.peer}.</strong> A new phone or a reinstalled app does this — compare the symbols before you talk about anything private.</p>`
        : null}
      <ul class="symbols" aria-label=${`Safety code: ${spoken}`} data-testid="sas">
        ${v.sas.map((s) => html`<li>${sasPicture(s.name)}<span class="name" data-sas-name>${s.name}</span></li>`)}
      </ul>
      <p>Read these aloud. If they match, no one is listening in.</p>
      ${v.sasConfirmed
        ? html`<p class="verified">✓ ${verified && v.contactName ? `${v.contactName} is a verified contact on this phone.` : `You checked the code with ${v.peer}.`}</p>`
        : html`<div class="verdict">
            <button class="good" @click=${() => this.fire("sas-verdict", true)}>They match</button>
            <button class="danger" @click=${() => this.fire("sas-verdict", false)}>They don't match</button>
          </div>`}
    </section>`;
  }

  /** Honest wording (UX.md): "Encrypted" alone never suggests a check that did not happen. */
  private stateLine(): string {
    const v = this.view;
    if (!v.encrypted) return "Securing…";
    if (v.verification === "verified") return `Verified · ${v.contactName ?? v.peer}`;
    if (v.verification === "key-changed") return "Encrypted · new safety key";
    return "Encrypted · not verified yet";
  }

  override render() {
    const v = this.view;
    const elapsed = v.connectedAt ? clock(this.now - v.connectedAt) : "0:00";
    const quality = v.quality ? html`<span class="q-${v.quality}">Connection: ${v.quality}</span>` : null;
    const away = v.peerAway || this.reconnecting;
    return html`<main class="screen">
      <div class="top">
        <span class="peer mono" data-testid="peer">${v.peer}</span>
        <span class="muted" aria-label=${`Call time ${elapsed}`}>${elapsed}</span>
        <span class="state ${v.encrypted ? "encrypted" : "pulse"}" data-testid="call-state">${this.stateLine()}</span>
      </div>
      <div class="indicators small muted">
        ${quality}
        <span>Mic <span class="meter" role="meter" aria-label="Microphone level" aria-valuemin="0" aria-valuemax="100"
          aria-valuenow=${Math.round(v.micLevel * 100)}><span></span></span></span>
        ${v.wakeLock ? html`<span class="ind">${sunIcon} Screen stays on</span>` : null}
      </div>
      ${this.sas()}
      <vs-call-details .details=${v.details}></vs-call-details>
      <div class="controls">
        <button aria-pressed=${v.muted ? "true" : "false"} @click=${() => this.fire("mute", !v.muted)}>${v.muted ? html`${micOffIcon} Muted` : html`${micIcon} Mute`}</button>
        <button aria-pressed=${v.mode === "speaker" ? "true" : "false"} aria-label=${v.mode === "speaker" ? "Speaker on — switch to quiet" : "Quiet — switch to speaker"}
          @click=${() => this.fire("mode", v.mode === "speaker" ? "private" : "speaker")}>${v.mode === "speaker" ? html`${speakerIcon} Speaker` : html`${earIcon} Quiet`}</button>
        <label class="volume small">
          <span>Volume</span>
          <input type="range" min="0" max="1" step="0.05" .value=${String(v.volume)}
            @input=${(e: Event) => this.fire("volume", Number((e.target as HTMLInputElement).value))} />
        </label>
        <button class="danger hangup" aria-label=${`Hang up call with ${v.peer}`} @click=${() => this.fire("hangup")}>${hangupIcon} Hang up</button>
      </div>
      ${away
        ? html`<div class="overlay" role="status">
            <div class="card">
              <strong class="pulse">Reconnecting…</strong>
              <span class="small muted">${this.reconnecting ? "Your connection dropped. The call continues when it's back." : `Waiting for ${v.peer}'s connection.`}</span>
            </div>
          </div>`
        : null}
    </main>`;
  }
}
customElements.define("vs-in-call", VsInCall);
