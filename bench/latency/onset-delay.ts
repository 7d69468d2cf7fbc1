// One-way delay from tone-burst onsets: each onset heard at the far end is paired with the latest
// onset captured at the near end before it. A delay is therefore only known modulo the fixture's
// burst period: with the usual 500 ms fixture a reading can never exceed ~500 ms, and a true
// 620 ms reads as 120 ms. That is why the benchmark also prints how many bursts arrived and why a
// stall is judged on the windows after it, when the delay is back in range; and why conditions
// whose delay may rightly exceed it (lossy links, where the jitter buffer covers recurring stalls,
// see pwa/audio/stall-cover.ts) use bursts 2 s apart instead (sparse-bursts.ts).
export const BURST_PERIOD_MS = 500;

export interface DelaySample {
  /** Wall-clock time of the captured onset. */
  capturedMs: number;
  delayMs: number;
}

/** Onsets closer than this to their capture are not a pairing (clock granularity is 1 ms). */
const MIN_DELAY_MS = 1;

export function pairOnsets(captured: readonly number[], played: readonly number[], periodMs = BURST_PERIOD_MS): DelaySample[] {
  const out: DelaySample[] = [];
  let j = 0;
  const cap = [...captured].sort((a, b) => a - b);
  for (const p of [...played].sort((a, b) => a - b)) {
    while (j + 1 < cap.length && cap[j + 1]! <= p - MIN_DELAY_MS) j++;
    const c = cap[j];
    if (c === undefined || c > p - MIN_DELAY_MS || p - c >= periodMs) continue;
    out.push({ capturedMs: c, delayMs: p - c });
  }
  return out;
}

export interface WindowStats {
  /** Seconds from the first captured onset to the start of the window. */
  fromS: number;
  toS: number;
  n: number;
  p50: number;
  p95: number;
  max: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i]!;
}

export function summarize(values: readonly number[]): { n: number; p50: number; p95: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 0.5), p95: percentile(s, 0.95), max: s.length ? s[s.length - 1]! : NaN };
}

/** Delay statistics per `windowS`-second window, counted from `startMs` (the first captured onset). */
export function perWindow(samples: readonly DelaySample[], startMs: number, windowS = 5): WindowStats[] {
  const buckets = new Map<number, number[]>();
  for (const s of samples) {
    const k = Math.floor((s.capturedMs - startMs) / (windowS * 1000));
    if (k < 0) continue;
    (buckets.get(k) ?? buckets.set(k, []).get(k)!).push(s.delayMs);
  }
  return [...buckets.keys()]
    .sort((a, b) => a - b)
    .map((k) => ({ fromS: k * windowS, toS: (k + 1) * windowS, ...summarize(buckets.get(k)!) }));
}
