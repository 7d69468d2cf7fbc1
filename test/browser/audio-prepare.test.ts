// iOS only starts an AudioContext created or resumed inside a user gesture, but the caller's
// audio can only start after the key exchange. The app prepares the context in the tap and
// starts on it later: this proves that path plays the caller's audio and creates no other context.
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Page } from "playwright-core";
import { openAudioTestPage, type AudioTestPage } from "../helpers/audio-test-page.ts";
import { envelope, rms, segmentedCorrelation } from "../audio/signal.ts";
import { FIXTURES } from "../audio/wav.ts";

const HOP = 480;
let testPage: AudioTestPage;
let page: Page;

beforeAll(async () => {
  testPage = await openAudioTestPage({ entry: "prepare-page.ts", readyFlag: "prepareReady", mic: FIXTURES + "speech-caller-48k.wav", worklets: true });
  page = testPage.page;
});

afterAll(async () => {
  await testPage?.close();
});

function fromBase64(b64: string): Float32Array {
  const bytes = Buffer.from(b64, "base64");
  const pcm16 = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  return Float32Array.from(pcm16, (v) => v / 32768);
}

test("prepared in the tap, started after the activation expired: one context, made in the gesture, and audio flows", { timeout: 60_000, retry: 1 }, async () => {
  await page.click("#call");
  const r = (await page.evaluate(
    ([codec, ms]) => (globalThis as unknown as { startLater(c: string, ms: number): Promise<unknown> }).startLater(codec, ms),
    ["pcmu16", 4000] as const,
  )) as {
    stateAtTap: string;
    stateWhileRunning: string;
    stateAfterStop: string;
    startedInGesture: boolean;
    activationExpiredAfterMs: number;
    events: { what: string; id: number; inGesture: boolean }[];
    sampleRate: number;
    sent: number;
    pcm: string;
    captured: string;
  };
  const out = fromBase64(r.pcm);
  const captured = fromBase64(r.captured);
  const rCaptured = segmentedCorrelation(envelope(out.subarray(48000), HOP), envelope(captured, HOP), 150);
  console.info(
    `[audio-prepare] contexts=${r.events.filter((e) => e.what === "new").length} events=${JSON.stringify(r.events)} ` +
      `activation expired after ${Math.round(r.activationExpiredAfterMs)} ms; rate=${r.sampleRate} sent=${r.sent} ` +
      `played=${(out.length / 48000).toFixed(2)} s rms=${rms(out, 48000).toFixed(3)} r(captured)=${rCaptured.toFixed(3)}`,
  );

  // Exactly one AudioContext, created in the click; nothing was created or resumed outside it
  // that iOS would have refused (a resume() outside it is only the harmless "already running" retry).
  const created = r.events.filter((e) => e.what === "new");
  expect(created).toHaveLength(1);
  expect(created[0]!.inGesture).toBe(true);
  expect(r.events.some((e) => e.what === "resume" && e.inGesture)).toBe(true);
  expect(r.events.filter((e) => e.what === "resume" && !e.inGesture)).toEqual([]);
  expect(r.startedInGesture).toBe(false);
  expect(r.stateWhileRunning).toBe("running");
  expect(r.stateAfterStop).toBe("closed");
  expect(r.sampleRate).toBe(48000);

  // And the call plays the captured speech through that context.
  expect(r.sent).toBeGreaterThan(150);
  expect(out.length / 48000).toBeGreaterThan(3);
  expect(rms(out, 48000)).toBeGreaterThan(0.01);
  expect(rCaptured).toBeGreaterThan(0.9);
});
