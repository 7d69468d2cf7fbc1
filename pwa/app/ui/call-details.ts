// "Call details" on the call screen: one tap shows the numbers people and support ask for.
// Kept apart from the call screen so that screen stays about the call itself; the figures come
// from CallView.details (CallAudio.details() + the server round trip), refreshed 4× a second.
import { LitElement, html, css, nothing } from "lit";
import type { CallView } from "../call-controller.ts";
import { base } from "./styles.ts";

type Details = NonNullable<CallView["details"]>;

const CODEC_NAMES: Record<string, string> = { opus: "Opus", pcmu16: "G.711 μ-law, 16 kHz" };

const ms = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? "—" : `${Math.round(v)} ms`);
const pct = (v: number) => (Number.isFinite(v) ? `${v < 10 ? v.toFixed(1) : Math.round(v)} %` : "—");

export class VsCallDetails extends LitElement {
  static properties = {
    details: { attribute: false },
    open: { state: true },
  };
  declare details: Details | null;
  declare open: boolean;

  static styles = [
    base,
    css`
      :host { display: block; }
      .toggle { min-height: 36px; padding: 4px 14px; font-size: 0.9rem; }
      dl { display: grid; grid-template-columns: auto 1fr; gap: 4px 14px; margin: 10px 0 0; font-size: 0.9rem; }
      dt { color: var(--muted); }
      dd { margin: 0; font-variant-numeric: tabular-nums; }
    `,
  ];

  constructor() {
    super();
    this.details = null;
    this.open = false;
  }

  override render() {
    const d = this.details;
    return html`<button class="toggle" aria-expanded=${this.open ? "true" : "false"} aria-controls=${this.open ? "call-details" : nothing} @click=${() => (this.open = !this.open)}>
        Call details
      </button>
      ${this.open
        ? html`<dl id="call-details" data-testid="call-details">
            ${d
              ? html`<dt>Codec</dt><dd data-detail="codec">${CODEC_NAMES[d.codec] ?? d.codec}${d.codecPath ? ` (${d.codecPath})` : ""}</dd>
                  <dt>Sending</dt><dd data-detail="bitrate">${d.sendKbps > 0 ? `${d.sendKbps.toFixed(1)} kbit/s` : "—"}</dd>
                  <dt>Round trip</dt><dd data-detail="rtt">${d.roundTripMs === null ? "—" : `${ms(d.roundTripMs)} to the server`}</dd>
                  <dt>Jitter buffer</dt><dd data-detail="buffer">${ms(d.playoutDelayMs)} (aiming for ${ms(d.targetDelayMs)}${d.stallCoverMs > 0 ? " to ride out stalls" : ""})</dd>
                  <dt>Jitter</dt><dd data-detail="jitter">${ms(d.jitterMs)}</dd>
                  <dt>Loss</dt><dd data-detail="loss">${pct(d.lossPercent)}</dd>
                  <dt>Concealed</dt><dd data-detail="concealed">${pct(d.concealedPercent)}</dd>
                  <dt>Dropped to catch up</dt><dd data-detail="catch-up">${d.catchUpDropped} frames (${d.stalls} stalls)</dd>
                  <dt>Device output</dt><dd data-detail="output">${ms(d.outputLatencyMs)}${d.outputUnderruns ? ` (ran dry ${d.outputUnderruns}×)` : ""}</dd>`
              : html`<dt>Audio</dt><dd>starting…</dd>`}
          </dl>`
        : nothing}`;
  }
}
customElements.define("vs-call-details", VsCallDetails);
