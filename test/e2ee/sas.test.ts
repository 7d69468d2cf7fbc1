// PROTOCOL.md §5: 24 bits → four 6-bit symbols, most significant first, from a fixed table.

import { describe, expect, test } from "vitest";
import { formatSas, SAS_TABLE, sasFromBits } from "../../pwa/e2ee/index.ts";

describe("SAS table", () => {
  test("64 distinct emoji with distinct, non-empty lower-case English names", () => {
    expect(SAS_TABLE).toHaveLength(64);
    expect(new Set(SAS_TABLE.map((s) => s.emoji)).size).toBe(64);
    expect(new Set(SAS_TABLE.map((s) => s.name)).size).toBe(64);
    for (const s of SAS_TABLE) {
      expect(s.name).toMatch(/^[a-z]+( [a-z]+)?$/);
      expect(s.emoji.length).toBeGreaterThan(0);
    }
  });

  test("contains the examples of PROTOCOL.md §5", () => {
    const byName = new Map(SAS_TABLE.map((s) => [s.name, s.emoji]));
    expect(byName.get("dog")).toBe("🐶");
    expect(byName.get("key")).toBe("🔑");
    expect(byName.get("cactus")).toBe("🌵");
    expect(byName.get("bicycle")).toBe("🚲");
  });

  test("is frozen", () => {
    expect(Object.isFrozen(SAS_TABLE)).toBe(true);
    expect(Object.isFrozen(SAS_TABLE[0])).toBe(true);
  });
});

describe("sasFromBits", () => {
  test("6 bits per symbol, most significant first", () => {
    const idx = (bits: number) => sasFromBits(bits).symbols.map((s) => SAS_TABLE.indexOf(s));
    expect(idx(0)).toEqual([0, 0, 0, 0]);
    expect(idx(0xffffff)).toEqual([63, 63, 63, 63]);
    expect(idx(1 << 18)).toEqual([1, 0, 0, 0]);
    expect(idx(1)).toEqual([0, 0, 0, 1]);
    expect(idx((5 << 18) | (17 << 12) | (42 << 6) | 63)).toEqual([5, 17, 42, 63]);
    expect(sasFromBits(0x123456).bits).toBe(0x123456);
  });

  test("rejects values outside 24 bits", () => {
    expect(() => sasFromBits(-1)).toThrow();
    expect(() => sasFromBits(2 ** 24)).toThrow();
    expect(() => sasFromBits(1.5)).toThrow();
  });

  test("formats like the protocol example", () => {
    const i = (name: string) => SAS_TABLE.findIndex((s) => s.name === name);
    const bits = (i("dog") << 18) | (i("key") << 12) | (i("cactus") << 6) | i("bicycle");
    expect(formatSas(sasFromBits(bits))).toBe("🐶 dog · 🔑 key · 🌵 cactus · 🚲 bicycle");
  });
});
