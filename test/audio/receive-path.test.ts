// The receive path as call-audio.ts wires it, in simulated time: arrivals → DecodeOrder (main
// thread; holds frames behind a gap, announces them to the worklet) → decode (a few ms) →
// JitterBuffer (playback worklet; popped every 20 ms, reports slots it passed without a frame,
// which gives the gap up). The two halves are tested alone in decode-order.test.ts and
// jitter-buffer.test.ts; this is about how they work together — in particular that a frame the
// sender never sent costs one concealed slot, not an underrun, a restart and skips.
import { describe, expect, test } from "vitest";
import { DecodeOrder } from "../../pwa/audio/decode-order.ts";
import { JitterBuffer, type PopResult } from "../../pwa/audio/jitter-buffer.ts";
import { prng } from "../helpers/prng.ts";

const DECODE_MS = 3;
const POST_MS = 1; // one message between the main thread and the worklet

/** Frames sent every 20 ms from t=0; `delay` = network delay, null = never sent (skipped seq). */
function simulate(count: number, delay: (seq: number) => number | null, opts: { announce?: boolean } = {}) {
  const announce = opts.announce ?? true;
  const queue: { at: number; run: () => void }[] = [];
  let now = 0;
  const at = (t: number, run: () => void) => queue.push({ at: t, run });
  const jb = new JitterBuffer<number>();
  const order = new DecodeOrder<number>(
    (seq) => at(now + DECODE_MS + POST_MS, () => jb.push(seq, seq, now)),
    60,
    announce ? (seq) => at(now + POST_MS, () => jb.announce(seq, now)) : undefined,
  );
  let expiry: number | null = null;
  const expire = () => {
    expiry = null;
    const wait = order.expire(now);
    if (wait !== null) at((expiry = now + wait), expire);
  };
  for (let seq = 0; seq < count; seq++) {
    const d = delay(seq);
    if (d === null) continue;
    at(seq * 20 + d, () => {
      order.push(seq, seq, now);
      if (expiry === null) expire();
    });
  }
  const ticks: { at: number; result: PopResult<number> }[] = [];
  let reported: number | null = null;
  for (let tick = 7; tick < count * 20 + 400; tick += 20) {
    for (;;) {
      queue.sort((a, b) => a.at - b.at);
      if (!queue.length || queue[0]!.at > tick) break;
      const e = queue.shift()!;
      now = e.at;
      e.run();
    }
    now = tick;
    ticks.push({ at: tick, result: jb.pop(tick) });
    const missed = jb.missedThrough();
    if (announce && missed !== reported) {
      reported = missed;
      if (missed !== null) at(tick + POST_MS, () => order.giveUpThrough(missed));
    }
  }
  const played = ticks.flatMap((t) => (t.result.kind === "frame" ? [t.result.seq] : []));
  const latencies = ticks.flatMap((t) => (t.result.kind === "frame" ? [t.at - t.result.seq * 20] : []));
  return { stats: jb.stats(), played, latencies, ticks };
}

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)]!;

/** A TCP link: in order, each frame no earlier than the one before it. */
function inOrder(delay: (seq: number) => number | null): (seq: number) => number | null {
  let last = -Infinity;
  return (seq) => {
    const d = delay(seq);
    if (d === null) return null;
    last = Math.max(last, seq * 20 + d);
    return last - seq * 20;
  };
}

describe("receive path (DecodeOrder + JitterBuffer)", () => {
  test("steady in-order link, frames the sender skipped: each gap concealed in its own slot, no skip, no drift", () => {
    // A TCP link never reorders; a gap is a frame the sender dropped (stale capture) and never fills.
    const skippedBySender = new Set([100, 200, 201, 350, 500]);
    const { stats, played, latencies, ticks } = simulate(700, (s) => (skippedBySender.has(s) ? null : 30));
    expect(played.length).toBe(700 - skippedBySender.size);
    expect(stats.lost).toBe(skippedBySender.size);
    // With a one-frame buffer the frame after a gap arrives with the gap's deadline, so the gap can
    // only be known a tick late: one stretch, then the missing seq is concealed (as without the
    // decode order, jitter-buffer.test.ts) — never the 60 ms wait behind a hold.
    const consumed = ticks.flatMap((t, i) => (t.result.kind === "conceal" && ticks[i + 1]?.result.kind !== "conceal" && t.result.seq < 700 ? [t.result.seq] : []));
    expect(new Set(consumed)).toEqual(new Set([100, 201, 350, 500]));
    expect(stats.concealed).toBeLessThanOrEqual(2 * skippedBySender.size);
    expect(stats.skipped).toBeLessThanOrEqual(2);
    // 30 ms network + decode + the one-frame target, quantised to the tick, + at most the
    // two frames of lateness catching up leaves alone.
    expect(Math.max(...latencies)).toBeLessThanOrEqual(30 + DECODE_MS + POST_MS + 20 + 20 + 40);
  });

  test("jittery in-order link (30–70 ms), 2 % skipped by the sender: one concealed slot per gap, no underruns, no skips", () => {
    const rnd = prng(7);
    const delay = inOrder(() => (rnd() < 0.02 ? null : 30 + rnd() * 40));
    const { stats, played, latencies } = simulate(3000, delay);
    expect(stats.lost).toBeGreaterThan(40);
    expect(played.length).toBeGreaterThanOrEqual(3000 - stats.lost - 3);
    expect(stats.concealed).toBeLessThanOrEqual(stats.lost + 3);
    expect(stats.underruns).toBeLessThanOrEqual(3);
    expect(stats.skipped).toBeLessThanOrEqual(3);
    expect(stats.targetDelayMs).toBeLessThanOrEqual(80);
    expect(p95(latencies.slice(250))).toBeLessThanOrEqual(30 + 80 + 20 + 20);
  });

  test("the same link without announcing held frames (the old wiring): the gaps cost underruns and skips", () => {
    // The contrast that shows the test above can fail: DecodeOrder holds a frame behind a gap for
    // 60 ms, longer than the buffer is deep, and the buffer runs dry at every gap.
    const rnd = prng(7);
    const delay = inOrder(() => (rnd() < 0.02 ? null : 30 + rnd() * 40));
    const { stats } = simulate(3000, delay, { announce: false });
    expect(stats.underruns).toBeGreaterThan(stats.lost / 2);
    expect(stats.concealed).toBeGreaterThan(stats.lost * 1.3);
  });

  test("3 % never sent and 0–60 ms independent delay (reordering): a lost frame is one concealed slot, the delay stays ≈ the target", () => {
    // The network of test/browser/audio-pipeline.test.ts.
    const rnd = prng(42);
    const { stats, played, latencies } = simulate(3000, () => (rnd() < 0.03 ? null : 30 + rnd() * 60));
    expect(stats.lost).toBeGreaterThan(60);
    // Each lost slot concealed once; beyond that only the occasional frame later than the target.
    expect(stats.concealed).toBeLessThanOrEqual(stats.lost + 5);
    expect(stats.underruns).toBeLessThanOrEqual(5);
    expect(stats.skipped).toBeLessThanOrEqual(3);
    expect(played.length).toBeGreaterThan(3000 * 0.95);
    for (let i = 1; i < played.length; i++) expect(played[i]!).toBeGreaterThan(played[i - 1]!);
    // p95 of the delay is ~57 ms + a frame; the playout point: best arrival (30) + target.
    expect(stats.targetDelayMs).toBeGreaterThanOrEqual(60);
    expect(stats.targetDelayMs).toBeLessThanOrEqual(90);
    expect(p95(latencies.slice(250))).toBeLessThanOrEqual(30 + 90 + 20 + 20);
  });

  test("the same network through the old wiring: many losses cost an underrun and a skip", () => {
    const rnd = prng(42);
    const { stats } = simulate(3000, () => (rnd() < 0.03 ? null : 30 + rnd() * 60), { announce: false });
    expect(stats.underruns).toBeGreaterThan(stats.lost / 3);
    expect(stats.skipped).toBeGreaterThan(10);
  });
});
