import { describe, expect, test } from "vitest";
import { JitterBuffer, type JitterBufferOptions, type PopResult } from "../../pwa/audio/jitter-buffer.ts";
import { prng } from "../helpers/prng.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES } from "./wav.ts";

interface Arrival {
  seq: number;
  at: number;
}

interface Tick {
  at: number;
  result: PopResult;
  targetDelayMs: number;
  bufferedMs: number;
  stallCoverMs: number;
}

/** Plays `arrivals` into a buffer popped every 20 ms (offset by `phase`) until `untilMs`. */
function run(arrivals: Arrival[], untilMs: number, options?: JitterBufferOptions, phase = 7, quiet: (seq: number) => boolean = () => false) {
  const jb = new JitterBuffer(options);
  const queue = [...arrivals].sort((a, b) => a.at - b.at);
  const ticks: Tick[] = [];
  let i = 0;
  for (let now = phase; now <= untilMs; now += 20) {
    while (i < queue.length && queue[i]!.at <= now) {
      const a = queue[i++]!;
      jb.push(a.seq, new Uint8Array([a.seq & 0xff]), a.at, quiet(a.seq));
    }
    const result = jb.pop(now);
    const s = jb.stats();
    ticks.push({ at: now, result, targetDelayMs: s.targetDelayMs, bufferedMs: s.bufferedMs, stallCoverMs: s.stallCoverMs });
  }
  return { jb, ticks, stats: jb.stats() };
}

/** Frames sent every 20 ms from t=0; `delay` returns the network delay or null for a lost frame. */
function stream(count: number, delay: (seq: number) => number | null, sendAt = (seq: number) => seq * 20): Arrival[] {
  const out: Arrival[] = [];
  for (let seq = 0; seq < count; seq++) {
    const d = delay(seq);
    if (d !== null) out.push({ seq, at: sendAt(seq) + d });
  }
  return out;
}

const played = (ticks: Tick[]) => ticks.flatMap((t) => (t.result.kind === "frame" ? [t.result.seq] : []));
const kinds = (ticks: Tick[], kind: PopResult["kind"]) => ticks.filter((t) => t.result.kind === kind);
/** Mouth-to-playout delay of each played frame, for a sender that sends frame `seq` at sendAt(seq). */
const latencies = (ticks: Tick[], sendAt = (seq: number) => seq * 20) =>
  ticks.flatMap((t) => (t.result.kind === "frame" ? [t.at - sendAt(t.result.seq)] : []));

describe("JitterBuffer", () => {
  test("steady network: every frame played in order, no concealment, low delay", () => {
    const { ticks, stats } = run(stream(500, () => 30), 500 * 20 + 200);
    expect(played(ticks)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(stats.concealed).toBe(0);
    expect(stats.late).toBe(0);
    expect(stats.lossPercent).toBe(0);
    expect(stats.jitterMs).toBeLessThan(1);
    const lat = latencies(ticks);
    // 30 ms network + a one-frame target, quantised to the 20 ms tick.
    expect(Math.max(...lat)).toBeLessThanOrEqual(30 + 20 + 20);
    expect(stats.targetDelayMs).toBe(20);
    expect(stats.playoutDelayMs).toBeGreaterThan(0);
    expect(stats.playoutDelayMs).toBeLessThanOrEqual(30);
  });

  test("jittery network: target grows to cover the jitter, little is concealed, cap respected", () => {
    const rnd = prng(1);
    const { ticks, stats } = run(stream(1500, () => 30 + rnd() * 80), 1500 * 20 + 400);
    expect(stats.jitterMs).toBeGreaterThan(15);
    expect(stats.targetDelayMs).toBeGreaterThanOrEqual(80);
    expect(stats.targetDelayMs).toBeLessThanOrEqual(200);
    // The first second is learnt from only up to 60 ms (call start-up), so it conceals more: 4 % over 30 s.
    expect(stats.concealed + stats.late).toBeLessThan(1500 * 0.04);
    const seqs = played(ticks);
    expect(seqs.length).toBeGreaterThan(1500 * 0.95);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
  });

  test("reordering within the buffer is fixed by seq", () => {
    // Every 5th pair arrives swapped.
    const arrivals = stream(300, () => 30).map((a) => {
      if (a.seq % 5 === 3) return { seq: a.seq, at: a.at + 25 };
      return a;
    });
    const { ticks, stats } = run(arrivals, 300 * 20 + 200);
    expect(played(ticks)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    // The very first late frame finds a one-frame buffer empty and is waited for by stretching
    // one tick (concealment, nothing lost); after that the target covers it.
    expect(stats.concealed).toBeLessThanOrEqual(1);
    expect(stats.lost).toBe(0);
    expect(stats.late).toBe(0);
  });

  test("duplicates are dropped and counted, whether still buffered or already played", () => {
    const base = stream(200, () => 30);
    const dupBuffered = base.filter((a) => a.seq % 10 === 0).map((a) => ({ seq: a.seq, at: a.at + 5 }));
    const dupPlayed = base.filter((a) => a.seq % 10 === 5).map((a) => ({ seq: a.seq, at: a.at + 500 }));
    const { ticks, stats } = run([...base, ...dupBuffered, ...dupPlayed], 200 * 20 + 700);
    expect(played(ticks)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(stats.duplicate).toBe(dupBuffered.length + dupPlayed.length);
    expect(stats.late).toBe(0);
    expect(stats.received).toBe(200 + dupBuffered.length + dupPlayed.length);
  });

  test("isolated losses: each missing frame is concealed once, by seq, and counted as loss", () => {
    const lost = new Set([100, 150, 151, 300]);
    const { ticks, stats } = run(stream(400, (s) => (lost.has(s) ? null : 30)), 400 * 20 + 200);
    // With a one-frame buffer the gap is noticed before the next frame is there: the first tick
    // stretches (conceals without using up the slot), the next conceals the missing seq itself.
    // (After the last frame the stream just ends: 400 is stretched into, and that is not a loss.)
    const concealedSeqs = new Set(kinds(ticks, "conceal").map((t) => (t.result as { seq: number }).seq).filter((s) => s < 400));
    expect(concealedSeqs).toEqual(lost);
    // Stretching while waiting put the playout up to 2 frames late; catching up skips them again.
    const seqs = played(ticks);
    for (const s of seqs) expect(lost.has(s)).toBe(false);
    expect(seqs.length).toBeGreaterThanOrEqual(396 - 2);
    expect(stats.skipped).toBeLessThanOrEqual(2);
    expect(stats.lost).toBe(4);
    expect(stats.lossPercent).toBeCloseTo(1, 1);
    expect(stats.targetDelayMs).toBeLessThanOrEqual(40);
  });

  test("burst loss longer than the buffer: a short gap, counted as loss, then on time again", () => {
    const { ticks, stats } = run(stream(400, (s) => (s >= 100 && s < 110 ? null : 30)), 400 * 20 + 200);
    const seqs = played(ticks);
    expect(seqs).toEqual([...Array.from({ length: 100 }, (_, i) => i), ...Array.from({ length: 290 }, (_, i) => 110 + i)]);
    expect(stats.lossPercent).toBeCloseTo(2.5, 1);
    expect(stats.late).toBe(0);
    // Loss doesn't look like jitter: no growth, and the frames after the gap keep their delay.
    expect(stats.targetDelayMs).toBeLessThanOrEqual(60);
    const lat = latencies(ticks);
    expect(lat[lat.length - 1]).toBeLessThanOrEqual(lat[50]! + 20);
  });

  test("a frame arriving after its slot was concealed is late, not played", () => {
    const arrivals = stream(100, (s) => (s === 50 ? 400 : 30));
    const { ticks, stats } = run(arrivals, 100 * 20 + 600);
    expect(played(ticks)).not.toContain(50);
    expect(stats.late).toBe(1);
    expect(stats.lost).toBe(1);
    // One tick stretched while waiting for it, one concealing it.
    expect(stats.concealed).toBeLessThanOrEqual(2);
  });

  test("DTX gaps are silence: no loss, no jitter, no growth, no accumulated delay", () => {
    // 20 talkspurts of 50 frames separated by 0.6–2 s of silence; seq keeps counting without gaps.
    const rnd = prng(7);
    const sendTimes: number[] = [];
    let t = 0;
    for (let spurt = 0; spurt < 20; spurt++) {
      for (let i = 0; i < 50; i++, t += 20) sendTimes.push(t);
      t += 600 + Math.floor(rnd() * 1400);
    }
    const sendAt = (seq: number) => sendTimes[seq]!;
    const arrivals = stream(sendTimes.length, () => 40 + rnd() * 8, sendAt);
    const { ticks, stats } = run(arrivals, t + 500);
    expect(played(ticks).length).toBe(1000);
    expect(stats.concealed).toBe(0);
    expect(stats.late).toBe(0);
    expect(stats.lossPercent).toBe(0);
    expect(stats.jitterMs).toBeLessThan(10);
    expect(stats.targetDelayMs).toBeLessThanOrEqual(60);
    expect(kinds(ticks, "silence").length).toBeGreaterThan(500);
    const lat = latencies(ticks, sendAt);
    expect(Math.max(...lat.slice(-50))).toBeLessThanOrEqual(Math.max(...lat.slice(0, 50)) + 20);
    expect(Math.max(...lat)).toBeLessThan(48 + 60 + 20 + 1);
  });

  test("after a jittery phase, a long calm shrinks the target and the real delay", () => {
    const rnd = prng(3);
    const jitteryFrames = 250; // 5 s
    const arrivals = stream(2000, (s) => (s < jitteryFrames ? 30 + rnd() * 150 : 30));
    const { ticks, stats } = run(arrivals, 2000 * 20 + 300);
    const peak = Math.max(...ticks.slice(0, jitteryFrames + 10).map((t) => t.targetDelayMs));
    expect(peak).toBeGreaterThanOrEqual(120);
    expect(stats.targetDelayMs).toBeLessThanOrEqual(45);
    const lat = latencies(ticks);
    expect(Math.max(...lat.slice(-100))).toBeLessThanOrEqual(30 + 45 + 20 + 20);
    expect(stats.skipped).toBeGreaterThan(0);
  });

  test("target delay never exceeds the 300 ms cap, even with 400 ms spikes", () => {
    const rnd = prng(11);
    const { ticks } = run(stream(1500, () => 30 + (rnd() < 0.1 ? rnd() * 400 : rnd() * 20)), 1500 * 20 + 600);
    const maxTarget = Math.max(...ticks.map((t) => t.targetDelayMs));
    expect(maxTarget).toBeLessThanOrEqual(300);
    expect(maxTarget).toBeGreaterThan(100);
  });

  test("a 300 ms stall: its backlog is dropped down to the target, not kept as extra delay", () => {
    // Frames 200–214 arrive together with 215.
    const arrivals = stream(600, (s) => (s >= 200 && s < 215 ? 30 + (215 - s) * 20 : 30));
    const { ticks, stats } = run(arrivals, 600 * 20 + 400);
    const lat = latencies(ticks);
    expect(Math.max(...ticks.map((t) => t.targetDelayMs))).toBeLessThanOrEqual(300);
    // Within the two frames of lateness catching up leaves alone.
    expect(Math.max(...lat.slice(-50))).toBeLessThanOrEqual(30 + stats.targetDelayMs + 40);
    expect(stats.targetDelayMs).toBeLessThanOrEqual(40);
    expect(stats.skipped).toBeGreaterThan(0);
  });

  test("burst after a 1 s stall: the target stays low, the delay is back within 100 ms at once and to its old level in 0.5 s", () => {
    // 1 s with nothing (frames 300–349 held), then all of it together with frame 350.
    const arrivals = stream(1000, (s) => (s >= 300 && s < 350 ? 30 + (350 - s) * 20 : 30));
    const { ticks, stats } = run(arrivals, 1000 * 20 + 300);
    const before = Math.max(...ticks.filter((t) => t.at > 4000 && t.at < 6000).flatMap((t) => (t.result.kind === "frame" ? [t.at - t.result.seq * 20] : [])));
    const stallEnd = 350 * 20 + 30;
    // Not one frame played more than 100 ms later than before the stall, from the first tick on.
    const after = ticks.filter((t) => t.at >= stallEnd).flatMap((t) => (t.result.kind === "frame" ? [t.at - t.result.seq * 20] : []));
    expect(after.length).toBeGreaterThan(600);
    expect(Math.max(...after)).toBeLessThanOrEqual(before + 100);
    // …and half a second after the stall it is what it was, to within the two frames catching up
    // leaves alone (every skip is audible).
    const settled = ticks.filter((t) => t.at >= stallEnd + 500).flatMap((t) => (t.result.kind === "frame" ? [t.at - t.result.seq * 20] : []));
    expect(Math.max(...settled)).toBeLessThanOrEqual(before + 40);
    // The stall did not teach the buffer to wait a second for every frame.
    expect(Math.max(...ticks.map((t) => t.targetDelayMs))).toBeLessThanOrEqual(40);
    expect(stats.stalls).toBe(1);
    expect(stats.skipped).toBeGreaterThanOrEqual(45);
    expect(stats.playoutDelayMs).toBeLessThanOrEqual(60);
  });

  test("40 ms jitter: the target settles one frame above it, little is concealed, delay stays bounded", () => {
    const rnd = prng(5);
    const { ticks, stats } = run(stream(1500, () => 30 + rnd() * 40), 1500 * 20 + 300);
    expect(stats.targetDelayMs).toBeGreaterThanOrEqual(50);
    expect(stats.targetDelayMs).toBeLessThanOrEqual(70);
    expect(stats.concealed + stats.late).toBeLessThan(1500 * 0.03);
    const lat = latencies(ticks).slice(250).sort((a, b) => a - b);
    // Network 30–70 ms + target ~60 ms; the playout point is the best arrival + target.
    expect(lat[Math.floor(lat.length * 0.95)]).toBeLessThanOrEqual(30 + 70 + 20);
  });

  test("reordering by up to 60 ms of independent delay: played in order, target covers it", () => {
    // Each frame's delay is independent (30–90 ms), so neighbours often arrive swapped.
    const rnd = prng(9);
    const arrivals = stream(1000, () => 30 + rnd() * 60);
    let swapped = 0;
    const byArrival = [...arrivals].sort((a, b) => a.at - b.at);
    for (let i = 1; i < byArrival.length; i++) if (byArrival[i]!.seq < byArrival[i - 1]!.seq) swapped++;
    expect(swapped).toBeGreaterThan(100);
    const { ticks, stats } = run(arrivals, 1000 * 20 + 300);
    const seqs = played(ticks);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
    expect(seqs.length).toBeGreaterThan(1000 * 0.95);
    expect(stats.targetDelayMs).toBeGreaterThanOrEqual(60);
    expect(stats.targetDelayMs).toBeLessThanOrEqual(100);
  });

  test("call start: 1 s of start-up bunches raises the target at most to 60 ms + a frame; real jitter after it does", () => {
    // Frames of the first second come in bunches of 5 (a busy sender starting up), then calm,
    // then from 4 s on 0–60 ms jitter.
    const rnd = prng(17);
    const arrivals = stream(400, (s) => (s < 50 ? 30 + (4 - (s % 5)) * 20 + 60 + (s % 10 === 0 ? 100 : 0) : s < 200 ? 30 : 30 + rnd() * 60));
    const { ticks } = run(arrivals, 400 * 20 + 300);
    // Unlimited, the bunches (80 ms late) would set 100 ms.
    expect(Math.max(...ticks.filter((t) => t.at < 4000).map((t) => t.targetDelayMs))).toBeLessThanOrEqual(80);
    expect(ticks[ticks.length - 1]!.targetDelayMs).toBeGreaterThanOrEqual(60);
  });

  test("call start on a calm link: low from the first frame", () => {
    const rnd = prng(13);
    const { ticks } = run(stream(250, () => 30 + rnd() * 4), 250 * 20 + 200);
    expect(Math.max(...ticks.map((t) => t.targetDelayMs))).toBeLessThanOrEqual(30);
    // Network 30–34 ms + target + tick quantisation.
    expect(Math.max(...latencies(ticks))).toBeLessThanOrEqual(34 + 30 + 20);
  });

  test("a sender that restarts its sequence numbers far away is followed (resync)", () => {
    const first = stream(100, () => 30);
    const far = stream(100, () => 30).map((a) => ({ seq: a.seq + 700, at: a.at + 2200 }));
    const { ticks } = run([...first, ...far], 2200 + 100 * 20 + 300);
    expect(played(ticks).slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(played(ticks).slice(-100)).toEqual(Array.from({ length: 100 }, (_, i) => 700 + i));
  });

  test("a burst at call start (slow first frames) does not set the delay for the call", () => {
    // The first 6 frames are held up and arrive together, as after a slow encoder start.
    const arrivals = stream(300, (s) => (s < 6 ? 30 + (6 - s) * 20 : 30));
    const { ticks, stats } = run(arrivals, 300 * 20 + 200);
    // A plain 95th percentile of 7 samples would be their maximum: 120 + 20 ms.
    expect(Math.max(...ticks.map((t) => t.targetDelayMs))).toBeLessThanOrEqual(60);
    expect(stats.targetDelayMs).toBeLessThanOrEqual(40);
    expect(stats.late).toBe(0);
    expect(played(ticks).length).toBeGreaterThanOrEqual(290);
  });

  test("announced frames: the missing frame before them is concealed on schedule and reported missed; their payload plays in its slot", () => {
    // A buffer 60 ms deep; frame 100 never comes, 101 and 102 arrive on time but are announced
    // only, their payload held back (decode order, waiting for 100).
    const jb = new JitterBuffer<number>({ minDelayMs: 60, initialDelayMs: 60 });
    const results: { at: number; r: PopResult<number> }[] = [];
    for (let now = 7, seq = 0; now < 200 * 20; now += 20) {
      for (; seq * 20 + 30 <= now; seq++) {
        const at = seq * 20 + 30;
        if (seq === 100) continue;
        if (seq === 101 || seq === 102) jb.announce(seq, at);
        else jb.push(seq, seq, at);
      }
      const r = jb.pop(now);
      results.push({ at: now, r });
      if (r.kind === "conceal" && r.seq === 100) {
        // The gap is given up at once (not after a stretch), and the decoding side hears of it.
        expect(jb.missedThrough()).toBe(100);
        jb.push(101, 101, now + 4);
        jb.push(102, 102, now + 4);
      }
    }
    const around = results.filter((x) => x.r.kind !== "silence" && "seq" in x.r && x.r.seq >= 98 && x.r.seq <= 104).map((x) => `${x.r.kind}${(x.r as { seq: number }).seq}`);
    expect(around).toEqual(["frame98", "frame99", "conceal100", "frame101", "frame102", "frame103", "frame104"]);
    const s = jb.stats();
    expect(s.concealed).toBe(1);
    expect(s.underruns).toBe(0);
    expect(s.skipped).toBe(0);
    expect(s.received).toBe(197); // 0–197 but 100; pushing an announced payload is not another arrival
  });

  test("an announced frame whose payload is not there by its slot: stretched for, then late once; the payload that follows is ignored", () => {
    const jb = new JitterBuffer<number>();
    const kindsSeen: string[] = [];
    for (let now = 7, seq = 0; now < 100 * 20; now += 20) {
      for (; seq * 20 + 30 <= now; seq++) {
        if (seq === 50) jb.announce(seq, seq * 20 + 30);
        else jb.push(seq, seq, seq * 20 + 30);
      }
      const r = jb.pop(now);
      if ("seq" in r && r.seq >= 49 && r.seq <= 52) kindsSeen.push(`${r.kind}${r.seq}`);
    }
    // Two stretch ticks while its payload is "being decoded", then the slot goes: concealed, late.
    expect(kindsSeen).toEqual(["frame49", "conceal50", "conceal50", "conceal50", "frame51", "frame52"]);
    jb.push(50, 50, 100 * 20);
    const s = jb.stats();
    expect(s.late).toBe(1);
    expect(s.duplicate).toBe(0);
    expect(s.received).toBe(98); // 0–97 arrived by the last tick; 50's payload is not a second arrival
    expect(jb.missedThrough()).toBe(50);
  });

  test("a frame announced after its slot passed is late once, and so is not counted again with its payload", () => {
    const jb = new JitterBuffer<number>();
    for (let now = 7, seq = 0; now < 100 * 20; now += 20) {
      for (; seq * 20 + 30 <= now; seq++) if (seq !== 50) jb.push(seq, seq, seq * 20 + 30);
      jb.pop(now);
      if (now > 60 * 20 && now <= 61 * 20) {
        jb.announce(50, now);
        jb.push(50, 50, now + 3);
      }
    }
    const s = jb.stats();
    expect(s.late).toBe(1);
    expect(s.duplicate).toBe(0);
  });

  test("stats: whole-call loss stays, the recent window recovers", () => {
    const { jb, stats } = run(stream(1000, (s) => (s % 20 === 10 && s < 400 ? null : 30)), 1000 * 20 + 200);
    // 20 of ~1000 slots over the call; the lossy part ended 12 s before the end.
    expect(stats.concealed).toBeGreaterThanOrEqual(20);
    expect(stats.concealed).toBeLessThanOrEqual(40);
    expect(stats.lost).toBe(20);
    expect(stats.lossPercent).toBeCloseTo((100 * 20) / stats.slots, 5);
    expect(jb.recent().lossPercent).toBe(0);
    expect(jb.recent().concealed).toBe(0);
  });

  describe("recurring stalls (a lossy TCP link: each lost segment holds the stream for an RTO)", () => {
    /** Frames every 20 ms, 30 ms on the way; each hold stops delivery from its start for `ms`,
     *  then everything sent meanwhile arrives at once, in order (as TCP delivers a backlog). */
    const held = (count: number, holds: { atMs: number; ms: number }[]) => {
      let last = 0;
      return stream(count, (seq) => {
        const sent = seq * 20;
        const h = holds.find((x) => sent >= x.atMs && sent < x.atMs + x.ms);
        // In order, as TCP delivers: a backlog's frames a few µs apart, the next one behind them.
        last = Math.max(h ? h.atMs + h.ms + 30 : sent + 30, last + 0.01);
        return last - sent;
      });
    };
    /** A stall every 2 s from 2 s to 30 s, 500–800 ms long; then 30 s of calm. */
    const lengths = [600, 500, 700, 550, 800, 650, 500, 750, 600, 700, 550, 800, 650, 600];
    const holds = lengths.map((ms, i) => ({ atMs: 2000 + i * 2000, ms }));
    const lossy = () => held(3000, holds);
    const inRange = (ticks: Tick[], fromSeq: number, toSeq: number) => played(ticks).filter((q) => q >= fromSeq && q < toSeq).length;

    test("once they recur (3 within 10 s) they are covered: no speech dropped at the later ones, delay bounded by the 1 s cap", () => {
      const { ticks, stats } = run(lossy(), 3000 * 20 + 500);
      const coverAt = ticks.find((t) => t.targetDelayMs >= 700)!;
      // Not before the third stall has ended (6 s + 700 ms)…
      expect(coverAt.at).toBeGreaterThanOrEqual(6700);
      expect(coverAt.at).toBeLessThan(7000);
      // …and from the fourth on, every frame sent during the stalls is played (800 ms is the
      // longest; the cover is the longest remembered one, so at most the first 800 ms one costs).
      const from = 8000 / 20;
      const to = 30_000 / 20;
      expect(inRange(ticks, from, to)).toBeGreaterThanOrEqual((to - from) * 0.99);
      expect(Math.max(...latencies(ticks))).toBeLessThanOrEqual(30 + 1000 + 20 + 40);
      expect(stats.stalls).toBe(lengths.length);
    });

    test("the same link without the cover (maxMs 0) drops most of every stall: what the cover is for", () => {
      const { ticks } = run(lossy(), 3000 * 20 + 500, { stallCover: { maxMs: 0 } });
      const from = 8000 / 20;
      const to = 30_000 / 20;
      expect(inRange(ticks, from, to)).toBeLessThan((to - from) * 0.8);
    });

    test("when the stalls stop, the cover goes: target and delay are back to a calm link's within 10 s + 3 s", () => {
      const { ticks } = run(lossy(), 3000 * 20 + 500);
      const lastStallEnd = holds.at(-1)!.atMs + holds.at(-1)!.ms;
      const calm = ticks.filter((t) => t.at >= lastStallEnd + 13_000);
      expect(Math.max(...calm.map((t) => t.targetDelayMs))).toBeLessThanOrEqual(40);
      const lat = calm.flatMap((t) => (t.result.kind === "frame" ? [t.at - t.result.seq * 20] : []));
      expect(lat.length).toBeGreaterThan(500);
      expect(Math.max(...lat)).toBeLessThanOrEqual(30 + 40 + 40);
    });

    test("mutes are not stalls, even when the first frame after one comes a little late", () => {
      // 1 s talking, 1 s muted (nothing sent, sequence numbers go on), eight times; the first
      // frame after each mute 15 ms late against the next (a slow first encode, say).
      const sendAt = (seq: number) => seq * 20 + Math.floor(seq / 50) * 1000;
      const arrivals = stream(400, (seq) => (seq % 50 === 0 && seq > 0 ? 45 : 30), sendAt);
      const { ticks, stats } = run(arrivals, sendAt(399) + 500);
      expect(Math.max(...ticks.map((t) => t.stallCoverMs))).toBe(0);
      expect(Math.max(...ticks.map((t) => t.targetDelayMs))).toBeLessThanOrEqual(60);
      expect(stats.stalls).toBe(0);
    });

    test("the cover goes 10 s after the last stall even while nothing arrives (a mute); the words after it are not late", () => {
      // The stalls until 30 s, then a 30 s mute from 31 s, then talking again.
      const talk = held(1550, holds);
      const sendAt = (seq: number) => seq * 20 + 30_000;
      const after = stream(1800, (seq) => (seq < 1550 ? null : 30), sendAt);
      const lastStallEnd = holds.at(-1)!.atMs + holds.at(-1)!.ms;
      const { ticks } = run([...talk, ...after], sendAt(1799) + 500);
      const at = (ms: number) => ticks.find((t) => t.at >= ms)!;
      expect(at(lastStallEnd + 5000).stallCoverMs).toBeGreaterThan(700);
      expect(at(lastStallEnd + 11_000).stallCoverMs).toBe(0);
      expect(at(lastStallEnd + 14_000).targetDelayMs).toBeLessThanOrEqual(40);
      const lat = ticks.filter((t) => t.at > sendAt(1550)).flatMap((t) => (t.result.kind === "frame" ? [t.at - sendAt(t.result.seq)] : []));
      expect(lat.length).toBeGreaterThan(200);
      expect(Math.max(...lat)).toBeLessThanOrEqual(30 + 40 + 40);
    });

    test("short mutes while the cover is on are not stalls: it still goes 10 s after the last real one", () => {
      // After the stalls (until 30 s): talking, with a 400 ms mute every 3 s — shorter than
      // what is buffered, so the first frame after each arrives with frames still queued.
      let mutes = 0;
      const sendTimes: number[] = [];
      for (let seq = 0, t = 0; seq < 3000; seq++, t += 20) {
        if (t >= 31_000 && seq % 150 === 0) {
          t += 400;
          mutes++;
        }
        sendTimes.push(t);
      }
      const talk = held(1550, holds);
      const after = stream(3000, (seq) => (seq < 1550 ? null : 30), (seq) => sendTimes[seq]!);
      const lastStallEnd = holds.at(-1)!.atMs + holds.at(-1)!.ms;
      const { ticks } = run([...talk, ...after], sendTimes[2999]! + 500);
      expect(mutes).toBeGreaterThan(5);
      expect(ticks.find((t) => t.at >= lastStallEnd + 5000)!.stallCoverMs).toBeGreaterThan(700);
      expect(Math.max(...ticks.filter((t) => t.at >= lastStallEnd + 11_000).map((t) => t.stallCoverMs))).toBe(0);
    });

    test("stragglers (a single frame 500 ms late, arriving after later ones) are not stalls to cover", () => {
      const arrivals = stream(1500, (seq) => (seq % 100 === 50 ? 530 : 30));
      const { ticks } = run(arrivals, 1500 * 20 + 600);
      expect(Math.max(...ticks.map((t) => t.stallCoverMs))).toBe(0);
      expect(Math.max(...ticks.map((t) => t.targetDelayMs))).toBeLessThanOrEqual(300);
    });

    test("stalls in a call's first second (its start-up) do not count towards the three", () => {
      const arrivals = held(1000, [{ atMs: 100, ms: 400 }, { atMs: 600, ms: 350 }, { atMs: 5000, ms: 600 }]);
      const { ticks, stats } = run(arrivals, 1000 * 20 + 300);
      expect(stats.stalls).toBe(3);
      expect(Math.max(...ticks.map((t) => t.stallCoverMs))).toBe(0);
    });

    test("a real lossy link's arrivals, captured in Chromium (a backlog arrives there in parts): its stalls are found and covered within seconds", () => {
      const { arrivals } = JSON.parse(readFileSync(join(FIXTURES, "lossy-link-arrivals.json"), "utf8")) as { arrivals: [number, number, number][] };
      const jb = new JitterBuffer();
      let k = 0;
      let coverOnAt: number | null = null;
      let playedFrames = 0;
      const end = arrivals.at(-1)![1] + 1500;
      for (let now = 0; now < end; now += 20) {
        for (; k < arrivals.length && arrivals[k]![1] <= now; k++) {
          const [seq, at, announced] = arrivals[k]!;
          if (announced) jb.announce(seq, at);
          jb.push(seq, new Uint8Array(1), at);
        }
        if (jb.pop(now).kind === "frame") playedFrames++;
        if (coverOnAt === null && jb.stats().stallCoverMs > 0) coverOnAt = now;
      }
      const st = jb.stats();
      // Dropping every backlog (the cover off, or the stalls not found: the first version that
      // wanted the backlog right behind its head) played 583 of these 1275 frames.
      expect(st.stalls).toBeGreaterThanOrEqual(15);
      expect(coverOnAt).not.toBeNull();
      expect(coverOnAt!).toBeLessThan(8000);
      expect(playedFrames).toBeGreaterThan(arrivals.length * 0.85);
    });

    /** Stamped as the playback worklet does: to the next 128-sample render quantum at 48 kHz. */
    const quantum = (t: number) => Math.ceil(t / (128 / 48)) * (128 / 48);

    test("jitter after an unmute is not a backlog: 0–100 ms in-order jitter and a mute every second make no stall", () => {
      // Counting only the early frames after a talkspurt's first one let jitter's downs add up
      // (its ups never took them back): 32–188 "stalls" in this case, by review.
      const rnd = prng(5);
      const sendAt = (seq: number) => seq * 20 + Math.floor(seq / 50) * 1000;
      let last = 0;
      const arrivals = stream(3000, (seq) => {
        last = Math.max(quantum(sendAt(seq) + 30 + rnd() * 100), last);
        return last - sendAt(seq);
      }, sendAt);
      const { ticks, stats } = run(arrivals, sendAt(2999) + 1500);
      expect(stats.stalls).toBe(0);
      expect(Math.max(...ticks.map((t) => t.stallCoverMs))).toBe(0);
    });

    test("a backlog that TCP delivers in rounds (slow start after an outage) is one stall: two outages do not turn the cover on", () => {
      // After each 2 s outage: 3 frames, then a round trip (250 ms) later 6, then 12, … (a
      // review's case: counting only early frames noted each outage twice and covered them).
      const at = new Map<number, number>();
      for (let seq = 0; seq < 1200; seq++) at.set(seq, seq * 20 + 30);
      for (const start of [5000, 11_000]) {
        let seq = start / 20;
        let t = start + 2000 + 30;
        for (let round = 3; ; round *= 2, t += 250) {
          for (let n = 0; n < round && seq * 20 + 30 <= t; n++, seq++) at.set(seq, t + n * 0.05);
          if (seq * 20 + 30 > t) break;
        }
      }
      const { ticks, stats } = run([...at].map(([seq, a]) => ({ seq, at: quantum(a) })), 1200 * 20 + 500);
      expect(stats.stalls).toBe(2);
      expect(Math.max(...ticks.map((t) => t.stallCoverMs))).toBe(0);
    });

    test("two stalls within 10 s are not recurring: each backlog is dropped, the target stays low", () => {
      const { ticks, stats } = run(held(1000, [{ atMs: 4000, ms: 700 }, { atMs: 9000, ms: 700 }]), 1000 * 20 + 300);
      expect(Math.max(...ticks.map((t) => t.targetDelayMs))).toBeLessThanOrEqual(40);
      expect(stats.stallCoverMs).toBe(0);
      expect(stats.stalls).toBe(2);
      expect(stats.skipped).toBeGreaterThanOrEqual(2 * 25);
    });
  });

  describe("adapting at pauses (quiet frames)", () => {
    /** Speech-like: 0.8 s talking, 0.2 s pause (quiet frames), over and over. */
    const pause = (seq: number) => seq % 50 >= 40;
    const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * p)]!;
    /** Which seqs were skipped to cut delay — to check that after the first pause only pauses were. */
    const skippedSeqs = (ticks: Tick[]) =>
      ticks.flatMap((t) => (t.result.kind === "frame" && t.result.skipped ? Array.from({ length: t.result.skipped }, (_, i) => (t.result as { seq: number }).seq - 1 - i) : []));

    test("call start behind a slow encoder (300 ms, then 15 frames at double speed): target stays low, the delay is the calm one from the first pause", () => {
      // The sender's first payload comes 300 ms after capture; the frames behind it catch up at 2×.
      const arrivals = stream(500, (s) => Math.max(30, 300 - s * 10));
      const { ticks, stats } = run(arrivals, 500 * 20 + 200, undefined, 7, pause);
      // Each catching-up frame arrives less than a frame after the one before: it is held-up
      // audio, not network delay, and only the head of the ramp (an outlier) could count.
      expect(Math.max(...ticks.map((t) => t.targetDelayMs))).toBeLessThanOrEqual(40);
      // From the first pause on (seq 40–49, played by ~1.3 s), the calm delay: 30 ms network +
      // the one-frame target, quantised to the tick, ± the 3/4 frame left alone.
      const lat = latencies(ticks);
      const after = ticks.filter((t) => t.at > 1300 && t.result.kind === "frame").map((t) => t.at - (t.result as { seq: number }).seq * 20);
      expect(Math.max(...after)).toBeLessThanOrEqual(30 + 20 + 20 + 15);
      expect(Math.max(...lat)).toBeGreaterThan(200); // the first frames were late and stayed that way until the pause
      // Before the first pause the old rules catch up (a backlog cut at once, compression); after
      // it only pauses are dropped.
      for (const s of skippedSeqs(ticks)) expect(pause(s) || s < 40).toBe(true);
      expect(stats.concealed).toBe(0);
    });

    test("call start behind busy pages (the hand-over lags bench/latency measured), then calm: start-up heads stop counting 10 heads later and their peak falls at once; calm target by 1 s, calm delay by 1.1 s", () => {
      // Capture → callee hand-over lag of the first 40 frames of a real call (ms), while both
      // pages rendered the secured screen; 4 ms after that.
      const lag = [83, 77, 64, 56, 35, 28, 30, 29, 57, 51, 25, 25, 25, 15, 84, 75, 56, 37, 18, 9, 18, 8, 5, 16, 45, 40, 21, 12, 4, 4, 4, 3, 4, 3, 2, 4, 2, 8, 3, 6];
      const { ticks } = run(stream(500, (s) => lag[s] ?? 4), 500 * 20 + 200, undefined, 7, pause);
      const target = (at: number) => ticks.find((t) => t.at >= at)!.targetDelayMs;
      // The start-up heads count, up to the warm-up cap (60 ms + a frame)…
      expect(Math.max(...ticks.map((t) => t.targetDelayMs))).toBeLessThanOrEqual(80);
      // …only until ten heads have come after them, not for the whole 1.5 s window (until
      // 2026-12: 72 ms at 1.6 s), and the peak they set falls without the hold and the slow
      // decay meant for a jittery network (until 2026-12-02: 60 ms at 1 s, 35 ms at 1.6 s, the
      // first frames' 107 ms delay kept until 0.9 s and 67 ms until 1.9 s).
      expect(target(1000)).toBeLessThanOrEqual(30);
      const after = ticks.filter((t) => t.at > 1100 && t.result.kind === "frame").map((t) => t.at - (t.result as { seq: number }).seq * 20);
      expect(Math.max(...after)).toBeLessThanOrEqual(4 + 20 + 20 + 15);
    });

    test("a jittery network from the first frame keeps the target a start-up peak set: the fast fall stops at what the heads since need", () => {
      const rnd = prng(11);
      const { ticks, stats } = run(stream(500, () => 30 + rnd() * 50), 500 * 20 + 300, undefined, 7, pause);
      const target = (at: number) => ticks.find((t) => t.at >= at)!.targetDelayMs;
      for (const at of [1500, 2000, 3000, 6000]) expect(target(at)).toBeGreaterThanOrEqual(55);
      expect(stats.concealed / stats.slots).toBeLessThan(0.03);
    });

    test("a stretch (one frame 60 ms late mid-speech) is taken back at the next pause, not kept for good", () => {
      const arrivals = stream(500, (s) => (s === 105 ? 90 : 30));
      const { ticks, stats } = run(arrivals, 500 * 20 + 200, undefined, 7, pause);
      const lat = (from: number, to: number) => ticks.filter((t) => t.result.kind === "frame" && t.result.seq >= from && t.result.seq < to).map((t) => t.at - (t.result as { seq: number }).seq * 20);
      const before = Math.max(...lat(50, 100));
      expect(Math.max(...lat(106, 140))).toBeGreaterThan(before); // stretched while waiting for 105
      expect(Math.max(...lat(150, 500))).toBeLessThanOrEqual(before); // back after the pause at 140–149
      expect(stats.skipped).toBeGreaterThanOrEqual(1);
      for (const s of skippedSeqs(ticks)) expect(pause(s)).toBe(true);
    });

    test("burst after a 1 s stall: back within 100 ms at once and to the old delay by the next pause; no speech frame dropped after the backlog", () => {
      const arrivals = stream(1000, (s) => (s >= 300 && s < 350 ? 30 + (350 - s) * 20 : 30));
      const { ticks, stats } = run(arrivals, 1000 * 20 + 300, undefined, 7, pause);
      const latOf = (t: Tick) => t.at - (t.result as { seq: number }).seq * 20;
      const before = Math.max(...ticks.filter((t) => t.at > 4000 && t.at < 6000 && t.result.kind === "frame").map(latOf));
      const stallEnd = 350 * 20 + 30;
      const after = ticks.filter((t) => t.at >= stallEnd && t.result.kind === "frame").map(latOf);
      expect(Math.max(...after)).toBeLessThanOrEqual(before + 100);
      // By the pause after the stall (seq 390–399) the delay is what it was.
      const settled = ticks.filter((t) => t.result.kind === "frame" && (t.result as { seq: number }).seq >= 400).map(latOf);
      expect(Math.max(...settled)).toBeLessThanOrEqual(before);
      expect(Math.max(...ticks.map((t) => t.targetDelayMs))).toBeLessThanOrEqual(40);
      expect(stats.stalls).toBe(1);
    });

    test("40 ms jitter: target one frame above it; the delay sits at the target (no lateness kept), little concealed", () => {
      const rnd = prng(5);
      const arrivals = stream(1500, () => 30 + rnd() * 40);
      const quiet = run(arrivals, 1500 * 20 + 300, undefined, 7, pause);
      const plain = run(arrivals, 1500 * 20 + 300);
      expect(quiet.stats.targetDelayMs).toBeGreaterThanOrEqual(50);
      expect(quiet.stats.targetDelayMs).toBeLessThanOrEqual(70);
      expect(quiet.stats.concealed + quiet.stats.late).toBeLessThan(1500 * 0.03);
      const lat = latencies(quiet.ticks).slice(250);
      // Best arrival (30) + target (≤ 70) + the tick, and the median no later than without pauses.
      expect(percentile(lat, 0.95)).toBeLessThanOrEqual(30 + 70 + 20);
      expect(percentile(lat, 0.5)).toBeLessThanOrEqual(percentile(latencies(plain.ticks).slice(250), 0.5));
      for (const s of skippedSeqs(quiet.ticks)) expect(pause(s) || s < 40).toBe(true);
    });

    test("reordering (30–90 ms independent delay): played in order, target covers it, delay ≈ best arrival + target", () => {
      const rnd = prng(9);
      const arrivals = stream(1000, () => 30 + rnd() * 60);
      const { ticks, stats } = run(arrivals, 1000 * 20 + 300, undefined, 7, pause);
      const seqs = played(ticks);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
      expect(seqs.length).toBeGreaterThan(1000 * 0.93);
      expect(stats.targetDelayMs).toBeGreaterThanOrEqual(60);
      expect(stats.targetDelayMs).toBeLessThanOrEqual(100);
      const lat = latencies(ticks).slice(100);
      expect(percentile(lat, 0.5)).toBeLessThanOrEqual(30 + stats.targetDelayMs + 20);
    });
  });
});
