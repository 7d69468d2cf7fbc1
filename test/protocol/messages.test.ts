import { describe, expect, test } from "vitest";
import { MessageError, parseClientMessage } from "../../protocol/messages.ts";
import { isMemberId } from "../../protocol/member-id.ts";

const D = "BA" + "A".repeat(85); // 65 bytes starting 0x04 (shape only; the server verifies the point)
const SIG = "A".repeat(86);
const KEY32 = "A".repeat(43);
const HELLO = { t: "hello", v: 2, d: D, name: "Grandma", sig: SIG };

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
    expect(parse(HELLO)).toEqual(HELLO);
    expect(parse({ ...HELLO, name: "  Grand\u0301ma  " })).toEqual({ ...HELLO, name: "Grandma".replace("d", "\u1e0b").normalize("NFC").replace("\u1e0b", "d\u0301".normalize("NFC")) });
    expect(parse({ ...HELLO, proof: KEY32, joinKey: KEY32 })).toEqual({ ...HELLO, proof: KEY32, joinKey: KEY32 });
    expect(parse({ t: "rename", name: "Sam" })).toEqual({ t: "rename", name: "Sam" });
    expect(parse({ t: "leave", sig: SIG })).toEqual({ t: "leave", sig: SIG });
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
    [{ t: "hello", v: 1 }, "upgrade-required"],
    [{ t: "hello", v: 1, resume: "a".repeat(32) }, "upgrade-required"],
    [{ t: "hello", v: 2 }, "bad-message"],
    [{ ...HELLO, extra: true }, "bad-message"],
    [{ ...HELLO, d: D.slice(1) }, "bad-message"],
    [{ ...HELLO, d: D + "=" }, "bad-message"],
    [{ ...HELLO, sig: SIG.slice(0, 85) + "B" }, "bad-message"], // non-canonical trailing bits
    [{ ...HELLO, proof: "x" }, "bad-message"],
    [{ ...HELLO, name: "" }, "bad-name"],
    [{ ...HELLO, name: "x".repeat(33) }, "bad-name"],
    [{ ...HELLO, name: "Gran\u202Ema" }, "bad-name"],
    [{ ...HELLO, name: 7 }, "bad-name"],
    [{ t: "rename", name: "a\u200Bb" }, "bad-name"],
    [{ t: "leave" }, "bad-message"],
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

  test("member IDs are 6 Crockford base32 characters", () => {
    expect(isMemberId("0123AZ")).toBe(true);
    for (const bad of ["0123AI", "0123AL", "0123AO", "0123AU", "0123az", "0123A", "0123AZ0"]) expect(isMemberId(bad)).toBe(false);
  });
});
