// bytes.ts and kx-message.ts: strict encodings, never throwing on untrusted input.

import { describe, expect, test } from "vitest";
import {
  base64urlDecode,
  base64urlEncode,
  bytesToHex,
  concatBytes,
  constantTimeEqual,
  hexToBytes,
} from "../../pwa/e2ee/bytes.ts";
import { decodeKxBody, encodeKxBody, MAX_KX_BODY } from "../../pwa/e2ee/index.ts";
import { randomCallId } from "./channel.ts";

describe("bytes", () => {
  test("base64url matches Buffer for lengths 0..70 and round-trips", () => {
    for (let n = 0; n <= 70; n++) {
      const b = crypto.getRandomValues(new Uint8Array(n));
      const s = base64urlEncode(b);
      expect(s).toBe(Buffer.from(b).toString("base64url"));
      expect(base64urlDecode(s)).toEqual(b);
    }
  });

  test("base64url decoding is strict", () => {
    expect(base64urlDecode("AA==")).toBeNull(); // padding
    expect(base64urlDecode("A+8")).toBeNull(); // standard alphabet
    expect(base64urlDecode("A/8")).toBeNull();
    expect(base64urlDecode("A")).toBeNull(); // impossible length
    expect(base64urlDecode("AB")).toBeNull(); // non-zero trailing bits: would alias "AA"
    expect(base64urlDecode("AA")).toEqual(Uint8Array.of(0));
    expect(base64urlDecode("A A")).toBeNull();
    expect(base64urlDecode("toString")).not.toBeNull(); // valid chars, but no prototype lookups
    expect(base64urlDecode("__proto_")).toEqual(new Uint8Array(Buffer.from("__proto_", "base64url")));
  });

  test("hex", () => {
    expect(bytesToHex(Uint8Array.of(0, 15, 255))).toBe("000fff");
    expect(hexToBytes("000fFF")).toEqual(Uint8Array.of(0, 15, 255));
    expect(hexToBytes("abc")).toBeNull();
    expect(hexToBytes("zz")).toBeNull();
  });

  test("concat and constant-time compare", () => {
    expect(concatBytes(Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3))).toEqual(Uint8Array.of(1, 2, 3));
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1))).toBe(false);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });
});

describe("key-exchange bodies", () => {
  const callId = randomCallId();
  const msgs = [
    { k: "commit", callId, h: crypto.getRandomValues(new Uint8Array(32)) },
    { k: "pub", callId, pub: crypto.getRandomValues(new Uint8Array(65)) },
    { k: "reveal", callId, pub: crypto.getRandomValues(new Uint8Array(65)) },
    { k: "confirm", callId, mac: crypto.getRandomValues(new Uint8Array(32)) },
  ] as const;

  test("round trip; every body fits the 1024-char limit", () => {
    for (const m of msgs) {
      const body = encodeKxBody(m);
      expect(body.length).toBeLessThanOrEqual(MAX_KX_BODY);
      expect(decodeKxBody(body)).toEqual(m);
    }
    expect(MAX_KX_BODY).toBe(1024);
  });

  test("encoder refuses wrong lengths and bad callIds; upper-case callId is normalised", () => {
    expect(() => encodeKxBody({ k: "commit", callId, h: new Uint8Array(31) })).toThrow();
    expect(() => encodeKxBody({ k: "pub", callId: "xyz", pub: new Uint8Array(65) })).toThrow();
    const body = encodeKxBody({ k: "commit", callId: callId.toUpperCase(), h: new Uint8Array(32) });
    expect(decodeKxBody(body)?.callId).toBe(callId);
  });

  test.each([
    ["not JSON", "{"],
    ["array", "[]"],
    ["null", "null"],
    ["number", "42"],
    ["string", '"commit"'],
    ["unknown kind", JSON.stringify({ k: "hello", c: "0".repeat(32), h: "" })],
    ["missing field", JSON.stringify({ k: "commit", c: "0".repeat(32) })],
    ["extra field", JSON.stringify({ k: "commit", c: "0".repeat(32), h: "A".repeat(43), x: 1 })],
    ["wrong field name", JSON.stringify({ k: "commit", c: "0".repeat(32), p: "A".repeat(43) })],
    ["short hash", JSON.stringify({ k: "commit", c: "0".repeat(32), h: "A".repeat(42) })],
    ["long point", JSON.stringify({ k: "pub", c: "0".repeat(32), p: "A".repeat(90) })],
    ["padded base64", JSON.stringify({ k: "confirm", c: "0".repeat(32), m: "A".repeat(43) + "=" })],
    ["upper-case callId", JSON.stringify({ k: "commit", c: "A".repeat(32), h: "A".repeat(43) })],
    ["short callId", JSON.stringify({ k: "commit", c: "0".repeat(31), h: "A".repeat(43) })],
    ["numeric field", JSON.stringify({ k: "commit", c: "0".repeat(32), h: 5 })],
    ["__proto__ key", '{"k":"commit","c":"' + "0".repeat(32) + '","__proto__":{"h":"x"}}'],
    ["too long", JSON.stringify({ k: "commit", c: "0".repeat(32), h: "A".repeat(43) }) + " ".repeat(1000)],
  ])("decoder returns null for %s", (_n, body) => {
    expect(decodeKxBody(body)).toBeNull();
  });

  test("decoder never throws on random input", () => {
    const alphabet = '{}[]":,kchpm0123456789abcdefABCDEF-_ \\u';
    for (let n = 0; n < 2000; n++) {
      const len = Math.floor(Math.random() * 120);
      let s = "";
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
      expect(() => decodeKxBody(s)).not.toThrow();
    }
    expect(decodeKxBody(undefined as unknown as string)).toBeNull();
    expect(decodeKxBody({} as unknown as string)).toBeNull();
  });
});
