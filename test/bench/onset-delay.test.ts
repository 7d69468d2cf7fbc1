// The latency benchmark's arithmetic: pairing heard burst onsets with captured ones, and the
// per-window figures it prints.
import { describe, expect, test } from "vitest";
import { pairOnsets, percentile, perWindow } from "../../bench/latency/onset-delay.ts";

describe("onset pairing", () => {
  test("each heard onset pairs with the latest captured one before it", () => {
    const captured = [1000, 1500, 2000, 2500];
    const heard = [1060, 1570, 2045, 2580];
    expect(pairOnsets(captured, heard).map((p) => [p.capturedMs, p.delayMs])).toEqual([
      [1000, 60],
      [1500, 70],
      [2000, 45],
      [2500, 80],
    ]);
  });

  test("a burst that was never heard leaves no sample; one heard before any capture is ignored", () => {
    expect(pairOnsets([1000, 1500, 2000], [900, 1550, 2050]).map((p) => p.delayMs)).toEqual([50, 50]);
  });

  test("delays are only known modulo the 500 ms burst period", () => {
    // 620 ms after the first capture is 120 ms after the second one.
    expect(pairOnsets([1000, 1500], [1620]).map((p) => p.delayMs)).toEqual([120]);
  });

  test("with bursts 2 s apart, a 1.2 s delay reads as itself", () => {
    expect(pairOnsets([1000, 3000], [2200, 4250], 2000).map((p) => p.delayMs)).toEqual([1200, 1250]);
    // …and still not a heard onset a whole period or more after its capture.
    expect(pairOnsets([1000], [3100], 2000)).toEqual([]);
  });

  test("windows count from the first capture; percentiles are nearest-rank", () => {
    const samples = [
      { capturedMs: 0, delayMs: 300 },
      { capturedMs: 500, delayMs: 100 },
      { capturedMs: 4999, delayMs: 200 },
      { capturedMs: 5000, delayMs: 50 },
    ];
    const w = perWindow(samples, 0, 5);
    expect(w).toEqual([
      { fromS: 0, toS: 5, n: 3, p50: 200, p95: 300, max: 300 },
      { fromS: 5, toS: 10, n: 1, p50: 50, p95: 50, max: 50 },
    ]);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).toBe(10);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
  });
});
