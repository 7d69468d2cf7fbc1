import { describe, expect, test } from "vitest";
import { isValidGroupName, sanitizeGroupName, suggestGroupNames } from "../../protocol/group-name.ts";

describe("group names", () => {
  test.each([
    ["Work", "work"],
    ["My Family!", "my-family"],
    ["  team   alpha  ", "team-alpha"],
    ["a_b-c", "a_b-c"],
    ["ÄÖÜ", ""],
    ["!!!", ""],
    ["abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrst"],
    ["../etc/passwd", "etcpasswd"],
    ["<script>", "script"],
  ])("sanitize %j → %j", (raw, want) => {
    expect(sanitizeGroupName(raw)).toBe(want);
  });

  test("validity follows [a-z0-9_-]{1,20}", () => {
    expect(isValidGroupName("work")).toBe(true);
    expect(isValidGroupName("a".repeat(20))).toBe(true);
    expect(isValidGroupName("a".repeat(21))).toBe(false);
    expect(isValidGroupName("Work")).toBe(false);
    expect(isValidGroupName("")).toBe(false);
    expect(isValidGroupName("a b")).toBe(false);
    expect(isValidGroupName("a.b")).toBe(false);
  });

  test("suggestions are valid, distinct and unpredictable", () => {
    const a = suggestGroupNames(5);
    expect(new Set(a).size).toBe(5);
    for (const n of a) expect(isValidGroupName(n)).toBe(true);
    const many = new Set(Array.from({ length: 50 }, () => suggestGroupNames(1)[0]));
    expect(many.size).toBeGreaterThan(40);
  });
});
