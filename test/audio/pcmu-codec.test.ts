import { describe, expect, test } from "vitest";
import { FRAME_SAMPLES } from "../../pwa/audio/codec.ts";
import { decodeMulaw, encodeMulaw, linearToMulaw, mulawToLinear } from "../../pwa/audio/mulaw.ts";
import { PCMU16_FRAME_BYTES, PcmuDecoder, PcmuEncoder } from "../../pwa/audio/pcmu-codec.ts";
import { RATE3_DELAY_48K } from "../../pwa/audio/rate3.ts";
import { bestDelay, sine, snrDb } from "./signal.ts";
import { FIXTURES, readWav } from "./wav.ts";

/** Encodes and decodes `pcm` (48 kHz) frame by frame through pcmu16; returns decoded PCM and payload sizes. */
async function roundTrip(pcm: Float32Array): Promise<{ out: Float32Array; sizes: number[] }> {
  const payloads: Uint8Array[] = [];
  const enc = new PcmuEncoder((p) => payloads.push(p));
  const dec = new PcmuDecoder();
  const frames = Math.floor(pcm.length / FRAME_SAMPLES);
  for (let f = 0; f < frames; f++) enc.encode(pcm.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES));
  const out = new Float32Array(frames * FRAME_SAMPLES);
  for (let f = 0; f < payloads.length; f++) out.set(await dec.decode(payloads[f]!), f * FRAME_SAMPLES);
  return { out, sizes: payloads.map((p) => p.length) };
}

describe("G.711 μ-law", () => {
  test("matches the reference table at known points and is monotonic", () => {
    expect(linearToMulaw(0)).toBe(0xff);
    expect(linearToMulaw(-1)).toBe(0x7f);
    expect(linearToMulaw(32767)).toBe(0x80);
    expect(linearToMulaw(-32768)).toBe(0x00);
    expect(mulawToLinear(0xff)).toBe(0);
    expect(mulawToLinear(0x80)).toBe(32124);
    expect(mulawToLinear(0x00)).toBe(-32124);
    let prev = -Infinity;
    for (let code = 0x00; code <= 0x7f; code++) {
      const v = mulawToLinear(code);
      expect(v).toBeGreaterThan(prev);
      prev = v;
    }
  });

  test("re-encoding a decoded code is the identity", () => {
    for (let code = 0; code < 256; code++) {
      if (code === 0x7f) continue; // -0 and +0 share a value
      expect(linearToMulaw(mulawToLinear(code))).toBe(code);
    }
  });

  test("8-bit companding keeps ~37 dB SNR over a wide level range", () => {
    for (const amp of [0.5, 0.1, 0.02]) {
      const x = sine(1000, 16000, 1600, amp);
      expect(snrDb(x, decodeMulaw(encodeMulaw(x)))).toBeGreaterThan(33);
    }
  });
});

describe("pcmu16 codec (48 kHz ⇄ 16 kHz μ-law)", () => {
  test("one 320-byte payload per 20 ms frame", async () => {
    const { sizes } = await roundTrip(sine(440, 48000, 48000));
    expect(sizes).toHaveLength(50);
    expect(new Set(sizes)).toEqual(new Set([PCMU16_FRAME_BYTES]));
    expect(PCMU16_FRAME_BYTES).toBe(320);
  });

  test("a 1 kHz sine survives with > 35 dB SNR and the expected 2×63-sample delay", async () => {
    const x = sine(1000, 48000, 48000, 0.4);
    const { out } = await roundTrip(x);
    const delay = bestDelay(x, out, 400);
    expect(Math.abs(delay - 2 * RATE3_DELAY_48K)).toBeLessThanOrEqual(3);
    expect(snrDb(x, out, delay, 960)).toBeGreaterThan(35);
  });

  test("content above 8 kHz is filtered out rather than aliased into the voice band", async () => {
    const { out } = await roundTrip(sine(11000, 48000, 48000, 0.5));
    // Without the anti-alias filter 11 kHz folds to 5 kHz at full level.
    let e = 0;
    for (let i = 4800; i < out.length; i++) e += out[i]! * out[i]!;
    const outRms = Math.sqrt(e / (out.length - 4800));
    expect(20 * Math.log10(outRms / (0.5 / Math.SQRT2))).toBeLessThan(-40);
  });

  test("speech fixture round trip: > 33 dB SNR against the band-limited source, > 20 dB against the raw one", async () => {
    const wav = readWav(FIXTURES + "speech-caller-48k.wav");
    expect(wav.sampleRate).toBe(48000);
    // Band-limit the reference the same way (the codec is wideband by design): compare against the
    // source pushed through the same low-pass pair without quantisation.
    const { out } = await roundTrip(wav.samples);
    const delay = bestDelay(wav.samples, out, 400, 96000);
    expect(Math.abs(delay - 2 * RATE3_DELAY_48K)).toBeLessThanOrEqual(3);
    const { Decimator3, Interpolator3 } = await import("../../pwa/audio/rate3.ts");
    const d = new Decimator3();
    const u = new Interpolator3();
    const n = Math.floor(wav.samples.length / 960) * 960;
    const bandLimited = u.process(d.process(wav.samples.subarray(0, n)));
    expect(snrDb(bandLimited, out, 0, 960)).toBeGreaterThan(33);
    // And against the raw full-band source the speech energy is still clearly preserved.
    expect(snrDb(wav.samples, out, delay, 960)).toBeGreaterThan(20);
  });
});
