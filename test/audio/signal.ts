// Measurement helpers shared by the audio unit and browser tests.

export function sine(freq: number, rate: number, n: number, amp = 0.5, phase = 0): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = amp * Math.sin((2 * Math.PI * freq * i) / rate + phase);
  return out;
}

export function rms(x: ArrayLike<number>, from = 0, to = x.length): number {
  let e = 0;
  for (let i = from; i < to; i++) e += x[i]! * x[i]!;
  return Math.sqrt(e / Math.max(1, to - from));
}

/** SNR (dB) of `test` against `ref` after aligning by `delay` samples (test[i + delay] ≈ ref[i]). */
export function snrDb(ref: Float32Array, test: Float32Array, delay = 0, skip = 0): number {
  let sig = 0;
  let noise = 0;
  for (let i = skip; i + delay < test.length && i < ref.length; i++) {
    const e = test[i + delay]! - ref[i]!;
    sig += ref[i]! * ref[i]!;
    noise += e * e;
  }
  return 10 * Math.log10(sig / Math.max(noise, 1e-20));
}

/** Lag in [0, maxLag] maximising the dot product of test[i + lag] with ref[i]. */
export function bestDelay(ref: Float32Array, test: Float32Array, maxLag: number, span = 4800): number {
  let best = 0;
  let bestDot = -Infinity;
  for (let lag = 0; lag <= maxLag; lag++) {
    let dot = 0;
    for (let i = 0; i < span && i + lag < test.length && i < ref.length; i++) dot += ref[i]! * test[i + lag]!;
    if (dot > bestDot) {
      bestDot = dot;
      best = lag;
    }
  }
  return best;
}

/** RMS envelope: one value per `hop` samples. */
export function envelope(x: Float32Array, hop: number): Float32Array {
  const out = new Float32Array(Math.floor(x.length / hop));
  for (let i = 0; i < out.length; i++) out[i] = rms(x, i * hop, (i + 1) * hop);
  return out;
}

/** Pearson correlation of `a` against every cyclic shift of `ref`; returns the best value and shift. */
export function bestCyclicCorrelation(a: Float32Array, ref: Float32Array): { r: number; shift: number } {
  const n = a.length;
  const mean = (x: ArrayLike<number>, off: number, len: number, cyc: number) => {
    let s = 0;
    for (let i = 0; i < len; i++) s += x[(off + i) % cyc]!;
    return s / len;
  };
  const ma = mean(a, 0, n, n);
  let va = 0;
  for (let i = 0; i < n; i++) va += (a[i]! - ma) ** 2;
  let best = { r: -Infinity, shift: 0 };
  for (let shift = 0; shift < ref.length; shift++) {
    const mr = mean(ref, shift, n, ref.length);
    let cov = 0;
    let vr = 0;
    for (let i = 0; i < n; i++) {
      const r = ref[(shift + i) % ref.length]! - mr;
      cov += (a[i]! - ma) * r;
      vr += r * r;
    }
    const r = cov / Math.sqrt(va * vr || 1e-20);
    if (r > best.r) best = { r, shift };
  }
  return best;
}

/** Median over consecutive segments of each segment's best cyclic correlation with `ref`: robust to
 *  the few 20 ms timeline shifts a jitter buffer makes (skips, underruns) during a long capture. */
export function segmentedCorrelation(a: Float32Array, ref: Float32Array, segment: number): number {
  const scores: number[] = [];
  for (let i = 0; i + segment <= a.length; i += segment) scores.push(bestCyclicCorrelation(a.subarray(i, i + segment), ref).r);
  scores.sort((x, y) => x - y);
  return scores[Math.floor(scores.length / 2)] ?? 0;
}
