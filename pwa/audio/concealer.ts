// Packet-loss concealment and click-free transitions for 48 kHz, 20 ms playout frames.
// Runs inside the playback worklet, which is why it is pure code.
//
// A lost frame is replaced by repeating the last pitch period(s) of what was played (the idea of
// ITU-T G.711 Appendix I), fading out over a few frames so a burst becomes silence instead of a
// drone. Every switch between real audio, concealment and silence is crossfaded over 2 ms, so
// there is never a step in the waveform (a click).
import { FRAME_SAMPLES } from "./codec.ts";

const HISTORY = 1920; // 40 ms: room for the longest pitch lag plus the matching window
const MIN_LAG = 96; // 500 Hz
const MAX_LAG = 800; // 60 Hz
const MATCH = 480; // 10 ms window compared against its lagged copy
const MIN_REPEAT = 240; // repeat at least 5 ms, several periods for high voices (less buzz)
const XFADE = 96; // 2 ms
const FADE_OUT = 480; // 10 ms fade when the talker stops
/** Gain at the end of the 1st, 2nd, … consecutive concealed frame; silence after the last. */
const LOSS_GAINS = [0.8, 0.55, 0.3, 0];

export class Concealer {
  private readonly history = new Float32Array(HISTORY);
  private lossRun = 0;
  private silent = true;
  private repeat = MIN_REPEAT;
  private pos = 0;
  private gain = 1;

  /** A decoded frame to play; `discontinuity` when frames were skipped right before it. */
  good(frame: Float32Array, discontinuity = false): Float32Array {
    const out = Float32Array.from(frame.subarray(0, FRAME_SAMPLES));
    if (this.silent) {
      this.crossfade(out, null);
    } else if (this.lossRun > 0 || discontinuity) {
      if (this.lossRun === 0) this.startExtension();
      this.crossfade(out, this.extend(XFADE, this.gain, this.gain));
    }
    this.lossRun = 0;
    this.silent = false;
    this.remember(out);
    return out;
  }

  lost(): Float32Array {
    if (this.silent) return new Float32Array(FRAME_SAMPLES);
    if (this.lossRun === 0) this.startExtension();
    const g0 = this.gain;
    const g1 = LOSS_GAINS[Math.min(this.lossRun, LOSS_GAINS.length - 1)]!;
    this.lossRun++;
    this.gain = g1;
    const out = this.extend(FRAME_SAMPLES, g0, g1);
    if (g1 === 0) this.silent = true;
    return out;
  }

  /** Nothing to play (talker silent / DTX): fade what was playing, then zeros. */
  silence(): Float32Array {
    if (this.silent) return new Float32Array(FRAME_SAMPLES);
    if (this.lossRun === 0) this.startExtension();
    const out = this.extend(FADE_OUT, this.gain, 0);
    const frame = new Float32Array(FRAME_SAMPLES);
    frame.set(out);
    this.silent = true;
    this.lossRun = 0;
    return frame;
  }

  private startExtension(): void {
    const lag = estimatePitchLag(this.history);
    this.repeat = lag * Math.ceil(MIN_REPEAT / lag);
    this.pos = 0;
    this.gain = 1;
  }

  /** Periodic continuation of the remembered signal with a linear gain ramp. */
  private extend(n: number, g0: number, g1: number): Float32Array {
    const out = new Float32Array(n);
    const base = HISTORY - this.repeat;
    for (let i = 0; i < n; i++) {
      const g = g0 + ((g1 - g0) * i) / n;
      out[i] = this.history[base + ((this.pos + i) % this.repeat)]! * g;
    }
    this.pos += n;
    return out;
  }

  private crossfade(target: Float32Array, from: Float32Array | null): void {
    for (let i = 0; i < XFADE; i++) {
      const w = 0.5 - 0.5 * Math.cos((Math.PI * (i + 0.5)) / XFADE);
      target[i] = target[i]! * w + (from ? from[i]! * (1 - w) : 0);
    }
  }

  private remember(frame: Float32Array): void {
    this.history.copyWithin(0, frame.length);
    this.history.set(frame, HISTORY - frame.length);
  }
}

/** Lag (samples) where the last 10 ms best matches its past: coarse search at 12 kHz, then refined. */
export function estimatePitchLag(x: Float32Array): number {
  const end = x.length;
  const score = (lag: number, step: number): number => {
    let xy = 0;
    let xx = 0;
    let yy = 0;
    for (let i = end - MATCH; i < end; i += step) {
      const a = x[i]!;
      const b = x[i - lag]!;
      xy += a * b;
      xx += a * a;
      yy += b * b;
    }
    return xx > 0 && yy > 0 ? xy / Math.sqrt(xx * yy) : 0;
  };
  let best = MIN_LAG;
  let bestScore = -Infinity;
  for (let lag = MIN_LAG; lag <= MAX_LAG; lag += 4) {
    const s = score(lag, 4);
    if (s > bestScore) {
      bestScore = s;
      best = lag;
    }
  }
  const coarse = best;
  bestScore = -Infinity;
  for (let lag = Math.max(MIN_LAG, coarse - 3); lag <= Math.min(MAX_LAG, coarse + 3); lag++) {
    const s = score(lag, 1);
    if (s > bestScore) {
      bestScore = s;
      best = lag;
    }
  }
  return best;
}
