// The token bucket refills only when it runs dry (rate-limiter.ts): it must still allow exactly
// a burst plus the long-run rate, and never refuse a sender that keeps to the rate.
import { describe, expect, test } from "vitest";
import { TokenBucket } from "../../server/rate-limiter.ts";

function clocked(perSecond: number, burst: number) {
  let now = 0;
  const b = new TokenBucket(perSecond, burst, () => now);
  return { b, advance: (ms: number) => void (now += ms) };
}

describe("TokenBucket", () => {
  test("a burst at once, then the long-run rate, nothing more", () => {
    const { b, advance } = clocked(60, 150);
    let allowed = 0;
    for (let i = 0; i < 1000; i++) if (b.take()) allowed++;
    expect(allowed).toBe(150);
    // Ten seconds of a 5× flood: 60/s get through (plus at most one token of rounding).
    allowed = 0;
    for (let ms = 0; ms < 10_000; ms += 4) {
      advance(4);
      if (b.take()) allowed++;
    }
    expect(allowed).toBeGreaterThanOrEqual(599);
    expect(allowed).toBeLessThanOrEqual(601);
    expect(b.refusedInWindow).toBeGreaterThan(0);
  });

  test("a sender at the rate is never refused, however long; idle time refills at most one burst", () => {
    const { b, advance } = clocked(50, 10);
    for (let i = 0; i < 50 * 120; i++) {
      advance(20);
      expect(b.take()).toBe(true);
    }
    advance(60_000);
    let allowed = 0;
    for (let i = 0; i < 100; i++) if (b.take()) allowed++;
    expect(allowed).toBe(10);
  });

  test("refusals are counted per 10 s window", () => {
    const { b, advance } = clocked(1, 1);
    b.take();
    for (let i = 0; i < 5; i++) b.take();
    expect(b.refusedInWindow).toBe(5);
    advance(10_001);
    b.take();
    b.take();
    expect(b.refusedInWindow).toBe(1);
  });
});
