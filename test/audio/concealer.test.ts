import { describe, expect, test } from "vitest";
import { FRAME_SAMPLES } from "../../pwa/audio/codec.ts";
import { Concealer, estimatePitchLag } from "../../pwa/audio/concealer.ts";
import { rms, sine } from "./signal.ts";

const frameOf = (x: Float32Array, f: number) => x.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES);
const maxStep = (x: Float32Array) => {
  let m = 0;
  for (let i = 1; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - x[i - 1]!));
  return m;
};
const join = (frames: Float32Array[]) => {
  const out = new Float32Array(frames.length * FRAME_SAMPLES);
  frames.forEach((f, i) => out.set(f, i * FRAME_SAMPLES));
  return out;
};

describe("Concealer", () => {
  test("finds the pitch period of a voiced-like signal", () => {
    const x = new Float32Array(1920);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin((2 * Math.PI * 150 * i) / 48000) + 0.4 * Math.sin((2 * Math.PI * 300 * i) / 48000);
    expect(Math.abs(estimatePitchLag(x) - 320)).toBeLessThanOrEqual(1);
  });

  test("a lost frame continues the waveform without a click, then real audio resumes smoothly", () => {
    const x = sine(200, 48000, 10 * FRAME_SAMPLES, 0.5);
    const c = new Concealer();
    const out: Float32Array[] = [];
    for (let f = 0; f < 10; f++) out.push(f === 5 ? c.lost() : c.good(frameOf(x, f)));
    const y = join(out);
    const natural = maxStep(x);
    // Skip the first frame's 2 ms fade-in from silence.
    expect(maxStep(y.subarray(200))).toBeLessThan(natural * 1.5);
    // The concealed frame carries real energy (not a hole).
    expect(rms(out[5]!)).toBeGreaterThan(0.5 * rms(frameOf(x, 5)));
  });

  test("consecutive losses fade to silence within four frames", () => {
    const x = sine(180, 48000, 3 * FRAME_SAMPLES, 0.5);
    const c = new Concealer();
    for (let f = 0; f < 3; f++) c.good(frameOf(x, f));
    const lost = Array.from({ length: 6 }, () => c.lost());
    const levels = lost.map((f) => rms(f));
    for (let i = 1; i < 4; i++) expect(levels[i]!).toBeLessThan(levels[i - 1]!);
    expect(levels[4]).toBe(0);
    expect(levels[5]).toBe(0);
    expect(maxStep(join(lost))).toBeLessThan(maxStep(x) * 1.5);
  });

  test("silence after speech fades out and speech after silence fades in, without clicks", () => {
    const x = sine(250, 48000, 4 * FRAME_SAMPLES, 0.5);
    const c = new Concealer();
    const y = join([c.good(frameOf(x, 0)), c.good(frameOf(x, 1)), c.silence(), c.silence(), c.good(frameOf(x, 2)), c.good(frameOf(x, 3))]);
    expect(maxStep(y)).toBeLessThan(maxStep(x) * 1.5);
    expect(rms(y, 3 * FRAME_SAMPLES, 4 * FRAME_SAMPLES)).toBe(0);
  });

  test("a skipped frame is crossfaded instead of jumping", () => {
    const x = sine(230, 48000, 6 * FRAME_SAMPLES, 0.5);
    const c = new Concealer();
    const y = join([c.good(frameOf(x, 0)), c.good(frameOf(x, 1)), c.good(frameOf(x, 3), true), c.good(frameOf(x, 4))]);
    expect(maxStep(y.subarray(200))).toBeLessThan(maxStep(x) * 1.5);
  });
});
