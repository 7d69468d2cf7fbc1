// The 128-wide sliding window on its own, including the bitmap's wrap-around.

import { expect, test } from "vitest";
import { REPLAY_WINDOW, ReplayWindow } from "../../pwa/e2ee/replay-window.ts";

const accept = (w: ReplayWindow, seq: number) => {
  const v = w.check(seq);
  if (v === "fresh") w.mark(seq);
  return v;
};

test("window width is 128", () => expect(REPLAY_WINDOW).toBe(128));

test("fresh, replayed, tooOld at the edges", () => {
  const w = new ReplayWindow();
  expect(accept(w, 1000)).toBe("fresh");
  expect(accept(w, 1000)).toBe("replayed");
  expect(accept(w, 873)).toBe("fresh"); // 127 behind
  expect(accept(w, 872)).toBe("tooOld"); // 128 behind
  expect(accept(w, 873)).toBe("replayed");
  expect(accept(w, 1001)).toBe("fresh");
  expect(accept(w, 873)).toBe("tooOld"); // fell out as the window moved
});

test("check alone does not mark", () => {
  const w = new ReplayWindow();
  expect(w.check(5)).toBe("fresh");
  expect(w.check(5)).toBe("fresh");
  w.mark(5);
  expect(w.check(5)).toBe("replayed");
});

test("a long jump clears stale bits that share slots with new numbers", () => {
  const w = new ReplayWindow();
  for (let s = 0; s < 128; s++) accept(w, s);
  expect(accept(w, 128 + 300)).toBe("fresh");
  // 300..427 map onto slots that were all set by 0..127; none may read as seen.
  for (let s = 301; s < 428; s++) expect(w.check(s), `seq ${s}`).toBe("fresh");
  expect(w.check(300)).toBe("tooOld");
});

test("matches a naive set-based model over a random walk", () => {
  const w = new ReplayWindow();
  const seen = new Set<number>();
  let top = -1;
  let x = 500;
  for (let i = 0; i < 20000; i++) {
    x = Math.max(0, x + Math.floor(Math.random() * 40) - 18);
    const expected = x > top ? "fresh" : top - x >= 128 ? "tooOld" : seen.has(x) ? "replayed" : "fresh";
    expect(accept(w, x)).toBe(expected);
    if (expected === "fresh") {
      seen.add(x);
      top = Math.max(top, x);
    }
  }
});

test("seq values up to 2^48 - 1 work", () => {
  const w = new ReplayWindow();
  const max = 2 ** 48 - 1;
  expect(accept(w, max - 1)).toBe("fresh");
  expect(accept(w, max)).toBe("fresh");
  expect(accept(w, max - 1)).toBe("replayed");
});
