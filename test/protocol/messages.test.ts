import { describe, expect, test } from "vitest";
import { MessageError, parseClientMessage } from "../../protocol/messages.ts";
import { isMemberId, randomMemberId } from "../../protocol/member-id.ts";

const CALL = "0123456789abcdef0123456789abcdef";
const parse = (v: unknown) => parseClientMessage(typeof v === "string" ? v : JSON.stringify(v), 2048);
const code = (v: unknown) => {
  try {
    parse(v);
    return "ok";
  } catch (e) {
    expect(e).toBeInstanceOf(MessageError);
    return (e as MessageError).code;
  }
};

describe("client message validation", () => {
  test("accepts every well-formed message", () => {
    expect(parse({ t: "hello", v: 1 })).toEqual({ t: "hello", v: 1 });
    expect(parse({ t: "hello", v: 1, resume: "a".repeat(32) })).toEqual({ t: "hello", v: 1, resume: "a".repeat(32) });
    expect(parse({ t: "call", to: "AB12CD", codecs: ["opus", "pcmu16"] })).toEqual({ t: "call", to: "AB12CD", codecs: ["opus", "pcmu16"] });
    expect(parse({ t: "answer", callId: CALL })).toEqual({ t: "answer", callId: CALL });
    for (const t of ["reject", "cancel", "hangup"]) expect(parse({ t, callId: CALL })).toEqual({ t, callId: CALL });
    expect(parse({ t: "kx", callId: CALL, body: "x" })).toEqual({ t: "kx", callId: CALL, body: "x" });
    expect(parse({ t: "ping" })).toEqual({ t: "ping" });
  });

  test.each([
    ["{not json", "bad-json"],
    ["[]", "bad-message"],
    ["null", "bad-message"],
    ['"hello"', "bad-message"],
    [{ v: 1 }, "bad-message"],
    [{ t: 5 }, "bad-message"],
    [{ t: "dance" }, "unknown-type"],
    [{ t: "hello", v: 2 }, "bad-message"],
    [{ t: "hello", v: 1, resume: "short" }, "bad-message"],
    [{ t: "hello", v: 1, extra: true }, "bad-message"],
    [{ t: "call", to: "ab12cd" }, "bad-message"],
    [{ t: "call", to: "AB12CDE" }, "bad-message"],
    [{ t: "call", to: "AB12CD", codecs: [] }, "bad-message"],
    [{ t: "call", to: "AB12CD", codecs: ["a", "b", "c", "d", "e"] }, "bad-message"],
    [{ t: "call", to: "AB12CD", codecs: ["BAD CODEC"] }, "bad-message"],
    [{ t: "answer", callId: CALL.toUpperCase() }, "bad-message"],
    [{ t: "answer", callId: CALL.slice(1) }, "bad-message"],
    [{ t: "hangup" }, "bad-message"],
    [{ t: "kx", callId: CALL, body: "" }, "bad-message"],
    [{ t: "kx", callId: CALL, body: 42 }, "bad-message"],
    [{ t: "kx", callId: CALL, body: "x".repeat(2049) }, "too-large"],
    [{ t: "__proto__" }, "unknown-type"],
  ])("rejects %j with %s", (input, want) => {
    expect(code(input)).toBe(want);
  });

  test("member IDs are 6 characters of [A-Z0-9] and well spread", () => {
    const ids = Array.from({ length: 2000 }, randomMemberId);
    for (const id of ids) expect(isMemberId(id)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const chars = new Set(ids.join(""));
    expect(chars.size).toBe(36);
  });
});
