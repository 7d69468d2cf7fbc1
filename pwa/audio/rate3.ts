// 48 kHz ⇄ 16 kHz for the wideband μ-law fallback. Both directions low-pass at 7 kHz: going
// down, anything above the 8 kHz Nyquist would fold back as audible aliasing; going up, the
// zero-stuffed signal carries images of the 0–8 kHz band at 8–24 kHz that must be removed.
// Streaming (state carried across frames) so frame edges never click.
import { lowpassTaps } from "./fir.ts";

const TAPS = 127; // Blackman: ~2 kHz transition at 48 kHz, > 70 dB stop band
const CUTOFF = 7000 / 48000;
const H = lowpassTaps(TAPS, CUTOFF);

/** 48 kHz → 16 kHz. Input lengths must be multiples of 3 (a 960-sample frame gives 320). */
export class Decimator3 {
  private hist = new Float32Array(TAPS - 1);

  process(input: Float32Array): Float32Array {
    if (input.length % 3 !== 0) throw new RangeError("Decimator3 needs a multiple of 3 samples");
    const histLen = TAPS - 1;
    const work = new Float32Array(histLen + input.length);
    work.set(this.hist);
    work.set(input, histLen);
    const out = new Float32Array(input.length / 3);
    for (let o = 0; o < out.length; o++) {
      const newest = histLen + 3 * o + 2;
      let acc = 0;
      for (let k = 0; k < TAPS; k++) acc += H[k]! * work[newest - k]!;
      out[o] = acc;
    }
    this.hist = work.slice(work.length - histLen);
    return out;
  }
}

// Polyphase split of the same filter, scaled by 3 to restore the energy lost to zero-stuffing.
const PHASE_LEN = Math.ceil(TAPS / 3);
const PHASES = [0, 1, 2].map((p) => {
  const taps = new Float32Array(PHASE_LEN);
  for (let j = 0; j < PHASE_LEN; j++) taps[j] = 3 * (H[p + 3 * j] ?? 0);
  return taps;
});

/** 16 kHz → 48 kHz. */
export class Interpolator3 {
  private hist = new Float32Array(PHASE_LEN - 1);

  process(input: Float32Array): Float32Array {
    const histLen = PHASE_LEN - 1;
    const work = new Float32Array(histLen + input.length);
    work.set(this.hist);
    work.set(input, histLen);
    const out = new Float32Array(input.length * 3);
    for (let m = 0; m < input.length; m++) {
      const newest = histLen + m;
      for (let p = 0; p < 3; p++) {
        const taps = PHASES[p]!;
        let acc = 0;
        for (let j = 0; j < PHASE_LEN; j++) acc += taps[j]! * work[newest - j]!;
        out[3 * m + p] = acc;
      }
    }
    this.hist = work.slice(work.length - histLen);
    return out;
  }
}

/** Group delay of one pass through either converter, in 48 kHz samples. */
export const RATE3_DELAY_48K = (TAPS - 1) / 2;
