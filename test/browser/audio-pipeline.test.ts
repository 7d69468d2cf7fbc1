// The whole audio path in real headless Chromium: fake mic (speech WAV) → capture worklet →
// encoder → lossy, jittery loopback → jitter buffer → decoder → playback worklet → tap.
// What comes out must be speech, and specifically *this* speech.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Page } from "playwright-core";
import { openAudioTestPage, type AudioTestPage } from "../helpers/audio-test-page.ts";
import { bestCyclicCorrelation, envelope, rms, segmentedCorrelation } from "../audio/signal.ts";
import { FIXTURES, readWav } from "../audio/wav.ts";

const CALLER = FIXTURES + "speech-caller-48k.wav";
const CALLEE = FIXTURES + "speech-callee-48k.wav";
const RUN_MS = 6000;
const HOP = 480; // 10 ms envelope resolution

let testPage: AudioTestPage;
let page: Page;

beforeAll(async () => {
  testPage = await openAudioTestPage({ entry: "pipeline-page.ts", readyFlag: "pipelineReady", mic: CALLER, worklets: true });
  page = testPage.page;
});

afterAll(async () => {
  await testPage?.close();
});

interface RunResult {
  pcm: string;
  captured: string;
  sizes: number[];
  dropped: number;
  sent: number;
  stats: Record<string, number | string>;
  simple: { lossPercent: number; jitterMs: number; targetDelayMs: number; concealed: number; late: number; quality: string };
  levels: number[];
}

async function runPipeline(codec: "opus" | "pcmu16"): Promise<{ result: RunResult; out: Float32Array; captured: Float32Array }> {
  const result = (await page.evaluate(
    (run) => (globalThis as unknown as { runPipeline(r: unknown): Promise<unknown> }).runPipeline(run),
    { codec, durationMs: RUN_MS, dropRate: 0.03, maxJitterMs: 60, seed: 42 },
  )) as RunResult;
  return { result, out: fromBase64(result.pcm), captured: fromBase64(result.captured) };
}

function fromBase64(b64: string): Float32Array {
  const bytes = Buffer.from(b64, "base64");
  const pcm16 = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  return Float32Array.from(pcm16, (v) => v / 32768);
}

/** Played vs. what the capture worklet handed to the encoder (same timeline, give or take the
 *  buffer delay): the pipeline's own fidelity, independent of how the fake microphone behaved. */
function correlationWithCaptured(out: Float32Array, captured: Float32Array): number {
  const played = envelope(out.subarray(48000), HOP);
  const source = envelope(captured, HOP);
  return segmentedCorrelation(played, source, 150);
}

/** Envelope correlation of the played audio with a fixture, over all loop positions: once for the
 *  whole capture, and as the median over 1.5 s segments (each skip or underrun of the jitter buffer
 *  shifts the timeline by 20 ms, which lowers the whole-capture value without meaning anything). */
function correlationWith(out: Float32Array, fixture: string): { whole: number; segments: number } {
  // Skip the first second: start-up silence and Chromium's AGC settling.
  const played = envelope(out.subarray(48000), HOP);
  const source = envelope(readWav(fixture).samples, HOP);
  return { whole: bestCyclicCorrelation(played, source).r, segments: segmentedCorrelation(played, source, 150) };
}

describe.sequential("audio pipeline in Chromium (fake mic → codec → lossy loopback → playback)", () => {
  test("both codecs are offered where WebCodecs Opus exists", async () => {
    const codecs = await page.evaluate(() => (globalThis as unknown as { supportedCodecs(): Promise<string[]> }).supportedCodecs());
    expect(codecs).toEqual(["opus", "pcmu16"]);
  });

  for (const codec of ["opus", "pcmu16"] as const) {
    // One retry: on this 2-core box other suites can starve Chromium's audio threads for seconds.
    test(`${codec}: the played audio is the caller's speech despite 3 % loss and 0–60 ms jitter`, { timeout: 60_000, retry: 1 }, async () => {
      const { result, out, captured } = await runPipeline(codec);
      const frames = out.length / 960;
      // Roughly real time: the playback worklet pulled ~50 frames/s.
      expect(frames).toBeGreaterThan((RUN_MS / 20) * 0.8);
      expect(rms(out, 48000)).toBeGreaterThan(0.01);

      const caller = correlationWith(out, CALLER);
      const callee = correlationWith(out, CALLEE);
      const rCaptured = correlationWithCaptured(out, captured);
      console.info(
        `[audio-pipeline] ${codec}: r(captured)=${rCaptured.toFixed(3)} r(caller)=${caller.whole.toFixed(3)}/${caller.segments.toFixed(3)} ` +
          `r(callee)=${callee.whole.toFixed(3)}/${callee.segments.toFixed(3)} (whole/segments) ` +
          `frames sent=${result.sent} dropped=${result.dropped} mean payload=${(result.sizes.reduce((a, b) => a + b, 0) / result.sizes.length).toFixed(1)} B ` +
          `stats=${JSON.stringify(result.stats)} quality=${result.simple.quality}`,
      );
      expect(rCaptured).toBeGreaterThan(0.9);
      // A broken pipeline (silence, noise, wrong rate, scrambled frames) fails these; so would
      // hearing the other voice — the same measure against it stays far lower.
      expect(caller.segments).toBeGreaterThan(0.85);
      expect(caller.whole).toBeGreaterThan(0.6);
      expect(callee.segments).toBeLessThan(0.7);
      expect(callee.whole).toBeLessThan(0.5);
      expect(caller.segments - callee.segments).toBeGreaterThan(0.3);
      expect(caller.whole - callee.whole).toBeGreaterThan(0.25);

      // The loopback's losses show up as loss, and the buffer stayed sane.
      expect(result.dropped).toBeGreaterThan(0);
      expect(result.simple.lossPercent).toBeGreaterThan(0);
      expect(result.simple.lossPercent).toBeLessThan(15);
      expect(result.simple.targetDelayMs).toBeLessThanOrEqual(200);
      expect(Math.max(...result.levels)).toBeGreaterThan(0.3);

      if (codec === "opus") {
        const mean = result.sizes.reduce((a, b) => a + b, 0) / result.sizes.length;
        // 24 kbit/s Opus ≈ 60 B per 20 ms; μ-law is 320 B. Anything near 320 means Opus didn't run.
        expect(mean).toBeLessThan(120);
        expect(Math.max(...result.sizes)).toBeLessThan(320);
      } else {
        expect(new Set(result.sizes)).toEqual(new Set([320]));
      }
    });
  }

  test("nothing is sent before the UI allows it or while muted; the gap plays as silence", { timeout: 30_000 }, async () => {
    const r = (await page.evaluate(() => (globalThis as unknown as { runGating(c: string): Promise<unknown> }).runGating("opus"))) as {
      beforeConfirm: number;
      afterConfirm: number;
      whileMuted: number;
      afterUnmute: number;
      levelMuted: number;
      beforeMute: { concealed: number; targetDelayMs: number };
      stats: { concealed: number; late: number; targetDelayMs: number; lossPercent: number };
    };
    expect(r.beforeConfirm).toBe(0);
    expect(r.afterConfirm).toBeGreaterThan(20);
    expect(r.whileMuted).toBe(0);
    expect(r.levelMuted).toBe(0);
    expect(r.afterUnmute).toBeGreaterThan(20);
    // The 1 s mute gap is not loss and does not inflate the buffer. (A one-frame buffer may
    // stretch a tick or two when talk resumes on a busy machine: that is arrival jitter, and it
    // is what concealed counts; the gap itself would be ~50.)
    expect(r.stats.concealed - r.beforeMute.concealed).toBeLessThanOrEqual(3);
    expect(r.stats.lossPercent).toBe(0);
    // "Before" falls in the jitter buffer's start-up second (where it learns at most 60 ms), and a
    // busy machine adds real jitter after it; a gap learnt as delay would read 300 ms (the cap).
    expect(r.stats.targetDelayMs).toBeLessThanOrEqual(Math.max(r.beforeMute.targetDelayMs, 60) + 40);
  });
});
