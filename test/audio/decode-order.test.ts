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
});
