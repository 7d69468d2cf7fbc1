import { describe, expect, test } from "vitest";
import { checkName } from "../../protocol/display-name.ts";

describe("names (IDENTITY.md §1)", () => {
  test.each([
    ["Grandma", "Grandma"],
    ["  Sam  ", "Sam"],
    ["Ana  María", "Ana María"],
    ["O'Brien-Smith (Dad)", "O'Brien-Smith (Dad)"],
    ["Zoë", "Zoë"],
    ["Zoe\u0308", "Zoë"], // NFC: combining diaeresis composes
    ["祖母", "祖母"],
    ["Бабушка", "Бабушка"],
    ["جدتي", "جدتي"],
    ["x".repeat(32), "x".repeat(32)],
  ])("%j is accepted as %j", (raw, want) => {
    expect(checkName(raw)).toEqual({ ok: true, name: want });
  });

  test.each([
    ["", "empty"],
    ["   ", "empty"],
    ["x".repeat(33), "too-long"],
    ["Gran\u202Ema", "bad-characters"], // right-to-left override
    ["Gran\u2066ma\u2069", "bad-characters"], // isolates
    ["Sam\u200B", "bad-characters"], // zero-width space
    ["S\u200Dam", "bad-characters"], // zero-width joiner
    ["\uFEFFSam", "bad-characters"],
    ["Sam\u0007", "bad-characters"],
    ["Sam\nBob", "bad-characters"],
    ["Sam\tBob", "bad-characters"],
    ["Sam\u00A0Bob", "bad-characters"], // no-break space looks like a space
    ["Sam 😀", "bad-characters"],
    ["\u0301Sam", "bad-characters"], // starts with a combining mark
    ["<b>", "bad-characters"],
    ["\uE000", "bad-characters"], // private use
  ])("%j is refused (%s)", (raw, problem) => {
    const c = checkName(raw);
    expect(c.ok).toBe(false);
    expect(!c.ok && c.problem).toBe(problem);
  });

  test("non-strings are refused", () => {
    for (const v of [null, undefined, 5, {}, ["Sam"]]) expect(checkName(v).ok).toBe(false);
  });
});
