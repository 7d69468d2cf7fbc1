// Arbitrary-ratio streaming resampler (windowed sinc, table-driven) for AudioContexts that don't
// run at 48 kHz — e.g. 44.1 kHz hardware, or Firefox refusing to connect a 48 kHz context to a
// 44.1 kHz microphone. Pure code so both worklets can bundle it and unit tests can measure it.

const TABLE_RES = 512; // kernel samples per input-sample distance; linear interpolation between

export class StreamResampler {
  private readonly step: number;
  private readonly half: number;
  private readonly table: Float32Array;
  private buf: Float32Array;
  private len: number;
  private t: number;

  constructor(readonly inRate: number, readonly outRate: number, halfWidth = 16) {
    this.step = inRate / outRate;
    this.half = halfWidth;
    // Below unity ratio the cutoff drops to the output Nyquist, with 5 % guard band.
    const fc = Math.min(1, outRate / inRate) * 0.95;
    this.table = new Float32Array(halfWidth * TABLE_RES + 2);
    for (let i = 0; i < this.table.length; i++) {
      const x = i / TABLE_RES;
      if (x >= halfWidth) continue;
      const s = x === 0 ? 1 : Math.sin(Math.PI * fc * x) / (Math.PI * fc * x);
      const w = 0.42 + 0.5 * Math.cos((Math.PI * x) / halfWidth) + 0.08 * Math.cos((2 * Math.PI * x) / halfWidth);
      this.table[i] = fc * s * w;
    }
    // Leading zeros let the first output sit on the first input sample (delay = halfWidth inputs).
    this.buf = new Float32Array(4096);
    this.len = halfWidth;
    this.t = halfWidth;
  }

  /** Output samples available so far for this input; lengths vary by ±1 between calls. */
  process(input: Float32Array): Float32Array {
    if (this.len + input.length > this.buf.length) {
      const bigger = new Float32Array(Math.max(this.buf.length * 2, this.len + input.length));
      bigger.set(this.buf.subarray(0, this.len));
      this.buf = bigger;
    }
    this.buf.set(input, this.len);
    this.len += input.length;

    const { half, table, buf, step } = this;
    const out = new Float32Array(Math.max(0, Math.ceil((this.len - half - this.t) / step) + 1));
    let n = 0;
    let t = this.t;
    while (Math.floor(t) + half < this.len && n < out.length) {
      const i0 = Math.floor(t);
      const frac = t - i0;
      let acc = 0;
      for (let k = -half + 1; k <= half; k++) {
        const pos = Math.abs(k - frac) * TABLE_RES;
        const j = pos | 0;
        const f = pos - j;
        acc += buf[i0 + k]! * (table[j]! + (table[j + 1]! - table[j]!) * f);
      }
      out[n++] = acc;
      t += step;
    }
    const drop = Math.floor(t) - half + 1;
    if (drop > 0) {
      buf.copyWithin(0, drop, this.len);
      this.len -= drop;
      t -= drop;
    }
    this.t = t;
    return out.subarray(0, n);
  }
}
