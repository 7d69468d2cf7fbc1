import { describe, expect, test } from "vitest";
import { StallCover } from "../../pwa/audio/stall-cover.ts";

describe("StallCover", () => {
  test("nothing is covered until stalls recur: 3 within 10 s", () => {
    const c = new StallCover();
    c.note(1000, 600);
    c.note(4000, 700);
    expect(c.coverMs(4000)).toBe(0);
    c.note(9000, 500);
    expect(c.coverMs(9000)).toBe(700);
  });

  test("the cover is the longest remembered stall, bounded by maxMs", () => {
    const c = new StallCover({ maxMs: 900 });
    for (const [at, ms] of [[0, 400], [1000, 1500], [2000, 300]] as const) c.note(at, ms);
    expect(c.coverMs(2000)).toBe(900);
  });

  test("once on, the cover stays while stalls keep coming, even sparser than 3 in 10 s; it goes 10 s after the last one", () => {
    const c = new StallCover();
    c.note(0, 800);
    c.note(2000, 400);
    c.note(4000, 400);
    expect(c.coverMs(4000)).toBe(800);
    // One stall every 6 s would not turn it on, but keeps it on.
    c.note(10_000, 300);
    c.note(16_000, 300);
    expect(c.coverMs(16_000)).toBe(800);
    expect(c.coverMs(26_000)).toBe(800);
    expect(c.coverMs(26_001)).toBe(0);
  });

  test("the level is the longest stall of the last 30 s: it does not drop while shorter ones keep coming", () => {
    const c = new StallCover();
    c.note(0, 900);
    for (let t = 2000; t <= 30_000; t += 2000) c.note(t, 400);
    expect(c.coverMs(30_000)).toBe(900);
    c.note(32_000, 400);
    expect(c.coverMs(32_000)).toBe(400);
  });

  test("off again, it takes 3 stalls within 10 s to come back", () => {
    const c = new StallCover();
    for (const t of [0, 1000, 2000]) c.note(t, 500);
    expect(c.coverMs(12_001)).toBe(0);
    c.note(13_000, 500);
    expect(c.coverMs(13_000)).toBe(0);
    c.note(14_000, 500);
    expect(c.coverMs(14_000)).toBe(0);
    c.note(15_000, 500);
    expect(c.coverMs(15_000)).toBe(500);
  });

  test("maxMs 0 turns covering off", () => {
    const c = new StallCover({ maxMs: 0 });
    for (let i = 0; i < 5; i++) c.note(i * 1000, 600);
    expect(c.coverMs(5000)).toBe(0);
  });
});
