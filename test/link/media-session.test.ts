// The link worker's media session (pwa/link/media-session.ts) between two real key-exchange
// results, with the real μ-law codec, real MessageChannels for the worklet ports and real
// AES-GCM: what one side captures is played by the other, and nothing else is — not before the
// keys, not a replayed, altered or other-call frame. Runs under Bun (no browser needed for pcmu16).
import { afterEach, describe, expect, test } from "vitest";
import { FRAME_SAMPLES } from "../../pwa/audio/codec.ts";
import type { MediaKeys } from "../../pwa/e2ee/key-exchange.ts";
import { MediaSession } from "../../pwa/link/media-session.ts";
import { makePair, randomCallId } from "../e2ee/channel.ts";

const SLOT = 320; // pcmu16 (frame-padding.ts)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Side {
  session: MediaSession;
  /** Capture worklet's end: post {frame, at} here. */
  mic: MessagePort;
  /** Playback worklet's end: what reaches it. */
  played: { type: string; seq?: number; pcm?: Float32Array }[];
  speaker: MessagePort;
  sent: Uint8Array[];
}

const open: Side[] = [];

async function side(sending: boolean, deliver: (frame: Uint8Array) => void): Promise<Side> {
  const capture = new MessageChannel();
  const playback = new MessageChannel();
  const played: Side["played"] = [];
  playback.port1.onmessage = (e) => played.push(e.data);
  const sent: Uint8Array[] = [];
  const session = await MediaSession.start({
    capture: capture.port2,
    playback: playback.port2,
    codec: "pcmu16",
    paths: null,
    sending,
    sendFrame: (frame) => {
      sent.push(frame);
      deliver(frame);
      return true;
    },
  });
  const s = { session, mic: capture.port1, played, speaker: playback.port1, sent };
  open.push(s);
  return s;
}

/** A 440 Hz tone, one 20 ms frame at 48 kHz. */
function tone(i: number): Float32Array {
  const f = new Float32Array(FRAME_SAMPLES);
  for (let n = 0; n < FRAME_SAMPLES; n++) f[n] = 0.3 * Math.sin((2 * Math.PI * 440 * (i * FRAME_SAMPLES + n)) / 48_000);
  return f;
}

/** The best normalised correlation of `heard` against `said` shifted by 0–200 samples. */
function bestLagCorrelation(heard: Float32Array, said: Float32Array): number {
  let best = 0;
  for (let lag = 0; lag <= 200; lag++) {
    let dot = 0;
    let hh = 0;
    let ss = 0;
    for (let n = lag; n < heard.length; n++) {
      dot += heard[n]! * said[n - lag]!;
      hh += heard[n]! ** 2;
      ss += said[n - lag]! ** 2;
    }
    if (hh > 0 && ss > 0) best = Math.max(best, dot / Math.sqrt(hh * ss));
  }
  return best;
}

async function keys(): Promise<[MediaKeys, MediaKeys]> {
  const p = makePair({ callId: randomCallId() });
  await Promise.all([p.i.start(), p.r.start()]);
  const [ki, kr] = await Promise.all([p.i.done, p.r.done]);
  // What postMessage does to them on the way to the worker.
  return [structuredClone(ki.handOff()), structuredClone(kr.handOff())];
}

afterEach(() => {
  for (const s of open.splice(0)) {
    s.session.stop();
    s.mic.close();
    s.speaker.close();
  }
});

describe("media session", () => {
  test("what A captures is played by B, in order, and sounds like it; nothing moves before the keys", async () => {
    let b: Side | null = null;
    const a = await side(true, (f) => b?.session.receive(f));
    b = await side(false, () => {});
    // Before the keys: A cannot send (no sealer), B drops whatever comes.
    for (let i = 0; i < 3; i++) a.mic.postMessage({ frame: tone(i), at: Date.now() });
    await sleep(50);
    expect(a.sent).toHaveLength(0);
    b.session.receive(crypto.getRandomValues(new Uint8Array(150)));
    await sleep(10);
    // Counted apart from real drops: the peer may simply have confirmed the keys first.
    expect(b.session.stats()).toMatchObject({ beforeKeys: 1, dropped: 0 });

    const [ki, kr] = await keys();
    a.session.setKeys(ki, 7, SLOT);
    b.session.setKeys(kr, 7, SLOT);
    for (let i = 0; i < 20; i++) a.mic.postMessage({ frame: tone(i), at: Date.now() });
    await expect.poll(() => b.played.filter((m) => m.type === "frame").length, { timeout: 5000 }).toBe(20);
    const frames = b.played.filter((m) => m.type === "frame");
    expect(frames.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    // μ-law at 16 kHz, resampled twice: the tone comes back (the filters delay it a little).
    expect(bestLagCorrelation(frames[10]!.pcm!, tone(10))).toBeGreaterThan(0.95);
    // The three frames before the keys were encoded but could not be sealed: counted, not sent.
    expect(a.session.stats()).toMatchObject({ sent: 20, sentFrames: 23, unsent: 3 });
    expect(b.session.stats()).toMatchObject({ opened: 20, dropped: 0, beforeKeys: 1 });
    // Every frame on the wire is the same size (IDENTITY.md §7): 12-byte header + slot + 2 + 16-byte tag.
    expect(new Set(a.sent.map((f) => f.byteLength))).toEqual(new Set([12 + 2 + SLOT + 16]));
  });

  test("a replayed, altered, foreign-call or other-key frame is dropped, never played", async () => {
    const [ki, kr] = await keys();
    const [other] = await keys();
    let b: Side | null = null;
    const a = await side(true, () => {});
    b = await side(false, () => {});
    a.session.setKeys(ki, 7, SLOT);
    b.session.setKeys(kr, 7, SLOT);
    const stranger = await side(true, () => {});
    stranger.session.setKeys(other, 7, SLOT); // a real sender, another call's keys
    const wrongHandle = await side(true, () => {});
    const [ki2, kr2] = await keys();
    wrongHandle.session.setKeys(ki2, 8, SLOT);
    const c = await side(false, () => {});
    c.session.setKeys(kr2, 7, SLOT); // expects handle 7, gets frames sealed under handle 8

    for (const s of [a, stranger, wrongHandle]) s.mic.postMessage({ frame: tone(0), at: Date.now() });
    await expect.poll(() => a.sent.length + stranger.sent.length + wrongHandle.sent.length, { timeout: 5000 }).toBe(3);
    const good = a.sent[0]!;
    const altered = good.slice();
    altered[40] = altered[40]! ^ 1;
    b.session.receive(altered);
    b.session.receive(stranger.sent[0]!);
    b.session.receive(good);
    b.session.receive(good); // replayed
    c.session.receive(wrongHandle.sent[0]!);
    await sleep(100);
    expect(b.played.filter((m) => m.type === "frame")).toHaveLength(1);
    expect(b.session.stats()).toMatchObject({ opened: 1, dropped: 3 });
    // Opened (the keys are right) but sealed for another call handle: dropped all the same.
    expect(c.played.filter((m) => m.type === "frame")).toHaveLength(0);
    expect(c.session.stats().dropped).toBe(1);
  });

  test("sending off or muted: nothing is encoded or sent; stale captures are dropped and their seq skipped", async () => {
    const [ki, kr] = await keys();
    let b: Side | null = null;
    const a = await side(false, (f) => b?.session.receive(f));
    b = await side(false, () => {});
    a.session.setKeys(ki, 7, SLOT);
    b.session.setKeys(kr, 7, SLOT);
    a.mic.postMessage({ frame: tone(0), at: Date.now() });
    await sleep(30);
    a.session.setSending(true);
    a.session.setMuted(true);
    a.mic.postMessage({ frame: tone(1), at: Date.now() });
    await sleep(30);
    expect(a.sent).toHaveLength(0);
    a.session.setMuted(false);
    a.mic.postMessage({ frame: tone(2), at: Date.now() - 1000 }); // captured a second ago: stale
    a.mic.postMessage({ frame: tone(3), at: Date.now() });
    await expect.poll(() => b.played.filter((m) => m.type === "frame").length, { timeout: 5000 }).toBe(1);
    // The stale frame used up seq 0: the receiver's clock for the sender stays true.
    expect(b.played.find((m) => m.type === "frame")!.seq).toBe(1);
    expect(a.session.stats()).toMatchObject({ staleDropped: 1, sent: 1 });
  });

  test("the page's sealer and opener are unusable once their keys are handed off, and hand off only once, before use", async () => {
    const p = makePair({ callId: randomCallId() });
    await Promise.all([p.i.start(), p.r.start()]);
    const [ki, kr] = await Promise.all([p.i.done, p.r.done]);
    ki.handOff();
    await expect(ki.sealer.seal(7, new Uint8Array(10))).rejects.toThrow(/destroyed/);
    expect(await ki.opener.open(new Uint8Array(100))).toBeNull();
    expect(() => ki.handOff()).toThrow(/already in use/);
    // A sealer that sealed (its seq is spent here) cannot move: the new one would reuse the seq.
    await kr.sealer.seal(7, new Uint8Array(10));
    expect(() => kr.handOff()).toThrow(/already in use/);
  });
});
