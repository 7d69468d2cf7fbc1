// The quality indicator's inputs are the last 5 s by wall clock, so a blip ages out whether the
// call goes on talking or falls silent (DTX, the peer muted) — the case that used to stick.
import { describe, expect, test } from "vitest";
import { JitterBuffer } from "../../pwa/audio/jitter-buffer.ts";
import { callQuality, type Quality } from "../../pwa/audio/quality.ts";
import { RecentWindow } from "../../pwa/audio/recent-stats.ts";

interface Sample {
  at: number;
  quality: Quality;
  lossPercent: number;
  jitterMs: number;
  cumulativeLoss: number;
}

/**
 * Frames sent every 20 ms from t=0 until `sendUntilMs`; `delay(seq)` gives the network delay or
 * null when the frame never arrives. Popped every 20 ms, sampled every 250 ms like the app does.
 */
function simulate(sendUntilMs: number, runUntilMs: number, delay: (seq: number, sentAt: number) => number | null): Sample[] {
  const jb = new JitterBuffer();
  const arrivals: { seq: number; at: number }[] = [];
  for (let seq = 0; seq * 20 < sendUntilMs; seq++) {
    const d = delay(seq, seq * 20);
    if (d !== null) arrivals.push({ seq, at: seq * 20 + d });
  }
  arrivals.sort((a, b) => a.at - b.at);
  const samples: Sample[] = [];
  let i = 0;
  for (let now = 7; now <= runUntilMs; now += 20) {
    while (i < arrivals.length && arrivals[i]!.at <= now) {
      const a = arrivals[i++]!;
      jb.push(a.seq, new Uint8Array(1), a.at);
    }
    jb.pop(now);
    if ((now - 7) % 260 === 0) {
      const r = jb.recent(now);
      samples.push({ at: now, quality: callQuality(r.lossPercent, r.jitterMs), lossPercent: r.lossPercent, jitterMs: r.jitterMs, cumulativeLoss: jb.stats().lossPercent });
    }
  }
  return samples;
}

/** First sample time at or after `fromMs` from which quality stays "good" to the end. */
function goodFrom(samples: Sample[], fromMs: number): number {
  let since = Infinity;
  for (const s of samples) {
    if (s.at < fromMs) continue;
    if (s.quality === "good") since = Math.min(since, s.at);
    else since = Infinity;
  }
  return since;
}

const worst = (samples: Sample[], from: number, to: number) =>
  samples.filter((s) => s.at >= from && s.at <= to).reduce((w, s) => (s.quality === "poor" || (s.quality === "fair" && w !== "poor") ? s.quality : w), "good" as Quality);

describe("recent window for the quality indicator", () => {
  const BLIP_FROM = 4000;
  const BLIP_TO = 5000; // 1 s: all 50 frames the sender produced then are gone

  test("1 s loss blip in continuous speech: poor during it, good again within the 5 s window", () => {
    const samples = simulate(20_000, 20_000, (_, sentAt) => (sentAt >= BLIP_FROM && sentAt < BLIP_TO ? null : 30));
    expect(worst(samples, 0, BLIP_FROM)).toBe("good");
    expect(worst(samples, BLIP_TO, BLIP_TO + 1000)).toBe("poor");
    const peak = Math.max(...samples.map((s) => s.lossPercent));
    const back = goodFrom(samples, BLIP_TO);
    console.info(`[recent-stats] speech after blip: peak recent loss ${peak.toFixed(1)} %, good again ${back - BLIP_TO} ms after the blip, whole-call loss ${samples.at(-1)!.cumulativeLoss.toFixed(1)} %`);
    expect(peak).toBeGreaterThan(8);
    expect(back - BLIP_TO).toBeLessThanOrEqual(5000 + 300);
    // The whole-call figure still remembers it, for diagnostics.
    expect(samples.at(-1)!.cumulativeLoss).toBeGreaterThan(4);
  });

  test("1 s loss blip followed by silence (peer muted / DTX): still recovers within the window", () => {
    // After the blip the sender talks for 0.5 s more, then sends nothing at all.
    const samples = simulate(BLIP_TO + 500, 16_000, (_, sentAt) => (sentAt >= BLIP_FROM && sentAt < BLIP_TO ? null : 30));
    expect(worst(samples, BLIP_TO, BLIP_TO + 1000)).toBe("poor");
    const back = goodFrom(samples, BLIP_TO);
    console.info(`[recent-stats] silence after blip: good again ${back - BLIP_TO} ms after the blip; whole-call loss ${samples.at(-1)!.cumulativeLoss.toFixed(1)} %`);
    expect(back - BLIP_TO).toBeLessThanOrEqual(5000 + 800);
    expect(samples.at(-1)!.lossPercent).toBe(0);
    // A slot-counted window would have frozen here: the whole-call value is what it would show.
    expect(callQuality(samples.at(-1)!.cumulativeLoss, 0)).toBe("poor");
  });

  test("1 s of heavy jitter then calm: jitter and quality come back within the window", () => {
    let x = 12345;
    const rnd = () => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const samples = simulate(20_000, 20_000, (_, sentAt) => (sentAt >= BLIP_FROM && sentAt < BLIP_TO ? 30 + rnd() * 250 : 30));
    const peakJitter = Math.max(...samples.map((s) => s.jitterMs));
    const back = goodFrom(samples, BLIP_TO);
    console.info(`[recent-stats] jitter blip: peak recent jitter ${peakJitter.toFixed(1)} ms, good again ${back - BLIP_TO} ms after it`);
    expect(worst(samples, BLIP_FROM, BLIP_TO + 1000)).not.toBe("good");
    expect(back - BLIP_TO).toBeLessThanOrEqual(5000 + 300);
    expect(samples.at(-1)!.jitterMs).toBeLessThan(1);
  });

  test("window mechanics: buckets age out by time; sparse evidence is not over-read", () => {
    const w = new RecentWindow({ windowMs: 5000, bucketMs: 250 });
    for (let t = 0; t < 1000; t += 20) w.slot(t, t >= 500);
    expect(w.stats(1000).slots).toBe(50);
    expect(w.stats(1000).lossPercent).toBeCloseTo(50, 5);
    expect(w.stats(5100).lost).toBe(25); // 0.5–1 s still inside (0.25, 5.25] s buckets
    expect(w.stats(6100).slots).toBe(0);
    expect(w.stats(6100).lossPercent).toBe(0);
    // One concealed slot alone in 5 s is divided by the 1 s minimum, not by itself.
    const lone = new RecentWindow();
    lone.slot(100, true);
    expect(lone.stats(200).lossPercent).toBe(2);
    const odd = new RecentWindow();
    odd.arrival(100, 200);
    expect(odd.stats(200).jitterMs).toBe(8);
    // Events older than the window relative to the newest one are ignored, not misfiled.
    const w2 = new RecentWindow();
    w2.slot(10_000, false);
    w2.slot(1_000, true);
    expect(w2.stats(10_000).lost).toBe(0);
  });
});
