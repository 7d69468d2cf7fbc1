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

  test("stalls older than memoryMs are forgotten, and the cover with them", () => {
    const c = new StallCover({ memoryMs: 10_000 });
    c.note(0, 800);
    c.note(2000, 400);
    c.note(4000, 400);
    expect(c.coverMs(9000)).toBe(800);
    // The 800 ms one is 10.5 s old: two left, not recurring any more.
    expect(c.coverMs(10_500)).toBe(0);
    expect(c.recent).toBe(2);
    c.note(11_000, 300);
    expect(c.coverMs(11_000)).toBe(400);
  });

  test("maxMs 0 turns covering off", () => {
    const c = new StallCover({ maxMs: 0 });
    for (let i = 0; i < 5; i++) c.note(i * 1000, 600);
    expect(c.coverMs(5000)).toBe(0);
  });
});
