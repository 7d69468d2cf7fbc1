import { describe, expect, test } from "vitest";
import { DecodeOrder } from "../../pwa/audio/decode-order.ts";

function collector(holdMs = 40) {
  const out: number[] = [];
  const o = new DecodeOrder<string>((seq) => out.push(seq), holdMs);
  return { o, out };
}

describe("DecodeOrder", () => {
  test("in-order frames pass straight through", () => {
    const { o, out } = collector();
    for (let s = 10; s < 15; s++) o.push(s, "x", s);
    expect(out).toEqual([10, 11, 12, 13, 14]);
  });

  test("a swapped pair is put back in order without waiting for a timer", () => {
    const { o, out } = collector();
    o.push(0, "x", 0);
    o.push(2, "x", 1);
    expect(out).toEqual([0]);
    o.push(1, "x", 5);
    expect(out).toEqual([0, 1, 2]);
  });

  test("a gap is given up after holdMs; the missing frame arriving later is dropped", () => {
    const { o, out } = collector(40);
    o.push(0, "x", 0);
    o.push(2, "x", 10);
    o.push(3, "x", 20);
    expect(o.expire(30)).toBe(20);
    expect(out).toEqual([0]);
    expect(o.expire(50)).toBeNull();
    expect(out).toEqual([0, 2, 3]);
    o.push(1, "x", 60);
    expect(out).toEqual([0, 2, 3]);
    expect(o.dropped).toBe(1);
    o.push(4, "x", 70);
    expect(out).toEqual([0, 2, 3, 4]);
  });

  test("a held frame is announced once; giving the gap up releases it and what follows at once", () => {
    const out: number[] = [];
    const held: number[] = [];
    const o = new DecodeOrder<string>((seq) => out.push(seq), 60, (seq) => held.push(seq));
    o.push(0, "x", 0);
    o.push(2, "x", 10);
    o.push(3, "x", 20);
    expect(held).toEqual([2, 3]);
    expect(out).toEqual([0]);
    // The playout passed slot 1 without it: no reason to wait the 60 ms.
    o.giveUpThrough(1);
    expect(out).toEqual([0, 2, 3]);
    // Frame 1 after all: too late, dropped, not decoded out of order.
    o.push(1, "x", 25);
    expect(out).toEqual([0, 2, 3]);
    expect(o.dropped).toBe(1);
    expect(o.expire(100)).toBeNull();
    // A frame that waited for nothing (its gap just filled) is not announced.
    o.push(5, "x", 30);
    o.push(4, "x", 31);
    expect(held).toEqual([2, 3, 5]);
    expect(out).toEqual([0, 2, 3, 4, 5]);
  });

  test("giving up through a seq drops held frames up to it and keeps waiting for a gap beyond it", () => {
    const out: number[] = [];
    const o = new DecodeOrder<string>((seq) => out.push(seq), 60);
    o.push(0, "x", 0);
    o.push(3, "x", 1);
    o.push(5, "x", 2);
    o.giveUpThrough(1);
    expect(out).toEqual([0]); // 2 is still missing
    o.giveUpThrough(3); // the playout skipped past 3 while it was held
    expect(out).toEqual([0]);
    expect(o.dropped).toBe(1);
    o.push(4, "x", 3);
    expect(out).toEqual([0, 4, 5]);
    o.giveUpThrough(2); // stale word: nothing changes
    o.push(6, "x", 4);
    expect(out).toEqual([0, 4, 5, 6]);
  });
});
