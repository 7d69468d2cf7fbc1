// A QR code drawn as SVG rects from the module matrix (no innerHTML, no inline styles, so the
// strict CSP holds), for scanning an invite link with another phone.
import { LitElement, css, html, svg } from "lit";
import QRCode from "qrcode";

export class VsQrCode extends LitElement {
  static properties = { text: {}, label: {} };
  declare text: string;
  declare label: string;

  static styles = css`
    :host { display: block; }
    svg { display: block; width: 100%; height: auto; background: #fff; border-radius: 12px; }
    rect { fill: #000; }
  `;

  constructor() {
    super();
    this.text = "";
    this.label = "QR code";
  }

  override render() {
    if (!this.text) return null;
    const m = QRCode.create(this.text, { errorCorrectionLevel: "M" }).modules;
    const quiet = 4;
    const size = m.size + 2 * quiet;
    const cells = [];
    for (let y = 0; y < m.size; y++) {
      for (let x = 0; x < m.size; x++) if (m.get(y, x)) cells.push(svg`<rect x=${x + quiet} y=${y + quiet} width="1.02" height="1.02"></rect>`);
    }
    return html`<svg viewBox="0 0 ${size} ${size}" role="img" aria-label=${this.label} shape-rendering="crispEdges">${cells}</svg>`;
  }
}
customElements.define("vs-qr-code", VsQrCode);
