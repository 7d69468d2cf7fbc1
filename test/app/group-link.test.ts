import { describe, expect, test } from "vitest";
import { readGroupPath } from "../../pwa/app/group-link.ts";
import { isGuessableGroupName } from "../../pwa/app/guessable-name.ts";

describe("readGroupPath", () => {
  test("a group, upper case normalised, and the landing page", () => {
    expect(readGroupPath("/")).toEqual({ group: null, bad: null });
    expect(readGroupPath("/sunny-otter-42")).toEqual({ group: "sunny-otter-42", bad: null });
    expect(readGroupPath("/Work")).toEqual({ group: "work", bad: null });
  });

  test.each([
    ["/My%20Family!", "/My Family!", /letters a–z/, "my-family"],
    ["/My%20Family", "/My Family", /no spaces/, "my-family"],
    ["/" + "a".repeat(25), "/" + "a".repeat(25), /at most 20 characters; this one has 25/, "a".repeat(20)],
    ["/a/b", "/a/b", /only one part/, "a-b"],
    ["/%F0%9F%98%80", "/😀", /letters a–z/, ""],
    ["/%ZZ", "/%ZZ", /letters a–z/, "zz"],
  ])("%s is not a group address: says why, offers %s", (path, shown, reason, suggestion) => {
    const r = readGroupPath(path);
    expect(r.group).toBeNull();
    expect(r.bad).toMatchObject({ shown, suggestion });
    expect(r.bad!.reason).toMatch(reason);
  });
});

describe("isGuessableGroupName", () => {
  test.each(["family", "friends", "my-family", "rosewood", "the-smiths", "oak-family-2024"])("%s is guessable", (n) => {
    expect(isGuessableGroupName(n)).toBe(true);
  });
  test.each(["sunny-otter-42", "rosewoodchronicles", "k7f-q2m-x9"])("%s is not", (n) => {
    expect(isGuessableGroupName(n)).toBe(false);
  });
});
