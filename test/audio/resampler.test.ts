import { describe, expect, test } from "vitest";
import { Decimator3, Interpolator3, RATE3_DELAY_48K } from "../../pwa/audio/rate3.ts";
import { StreamResampler } from "../../pwa/audio/resampler.ts";
import { rms, sine, snrDb } from "./signal.ts";

/** Feeds `x` in 128-sample render quanta, as a worklet would. */
function streamed(r: StreamResampler, x: Float32Array, block = 128): Float32Array {
  const parts: Float32Array[] = [];
  for (let i = 0; i < x.length; i += block) parts.push(r.process(x.subarray(i, i + block)));
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe("StreamResampler", () => {
  for (const [from, to] of [
    [44100, 48000],
    [48000, 44100],
    [16000, 48000],
    [96000, 48000],
  ] as const) {
    test(`${from} → ${to} Hz: right length, 1 kHz sine at > 50 dB SNR`, () => {
      const seconds = 1;
      const x = sine(1000, from, from * seconds, 0.5);
      const y = streamed(new StreamResampler(from, to), x);
      // The last 16 input samples wait for their right-hand filter taps.
      expect(Math.abs(y.length - to * seconds)).toBeLessThanOrEqual(Math.ceil((16 * to) / from) + 2);
      // Output sample j sits exactly at input time j·from/to.
      const ref = sine(1000, to, y.length, 0.5);
      const skip = 200;
      expect(snrDb(ref.subarray(skip, y.length - 100), y.subarray(skip, y.length - 100))).toBeGreaterThan(50);
    });
  }

  test("downsampling suppresses content above the new Nyquist", () => {
    const x = sine(35000, 96000, 96000, 0.5);
    const y = streamed(new StreamResampler(96000, 48000), x);
    expect(rms(y, 500, y.length - 100)).toBeLessThan(0.5 * 0.01);
  });
});

describe("3× converters for pcmu16", () => {
  test("passband is flat within 0.5 dB up to 5 kHz after down + up", () => {
    for (const f of [200, 1000, 3000, 5000]) {
      const x = sine(f, 48000, 9600, 0.5);
      const y = new Interpolator3().process(new Decimator3().process(x));
      const gainDb = 20 * Math.log10(rms(y, 2000, 9000) / rms(x, 2000, 9000));
      expect(Math.abs(gainDb)).toBeLessThan(0.5);
    }
  });

  test("interpolation leaves no images of the 16 kHz rate", () => {
    // A 3 kHz tone at 16 kHz would image at 13 and 19 kHz if not filtered.
    const x16 = sine(3000, 16000, 3200, 0.5);
    const y = new Interpolator3().process(x16);
    const clean = sine(3000, 48000, y.length, 0.5, (-2 * Math.PI * 3000 * RATE3_DELAY_48K) / 48000);
    expect(snrDb(clean.subarray(300), y.subarray(300))).toBeGreaterThan(45);
  });

  test("frame-by-frame processing equals one-shot processing (state carried across frames)", () => {
    const x = sine(700, 48000, 9600, 0.3);
    const whole = new Decimator3().process(x);
    const d = new Decimator3();
    const parts = new Float32Array(whole.length);
    for (let f = 0; f < 10; f++) parts.set(d.process(x.subarray(f * 960, (f + 1) * 960)), f * 320);
    for (let i = 0; i < whole.length; i++) expect(parts[i]).toBeCloseTo(whole[i]!, 6);
  });
});
