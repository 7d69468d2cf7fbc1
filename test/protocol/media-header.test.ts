import { describe, expect, test } from "vitest";
import { decodeMediaHeader, encodeMediaHeader, MAX_SEQ, MEDIA_HEADER_BYTES, MediaHeaderError, readCallHandle } from "../../protocol/media-header.ts";

describe("media header codec (PROTOCOL.md §6)", () => {
  test("layout is type:u8 || callHandle:u32 || epoch:u8 || seq:u48, big-endian", () => {
    const h = encodeMediaHeader({ callHandle: 0x01020304, epoch: 5, seq: 0x060708090a0b });
    expect(Array.from(h)).toEqual([0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(h.byteLength).toBe(MEDIA_HEADER_BYTES);
  });

  test("round trips extremes", () => {
    for (const x of [
      { callHandle: 0, epoch: 0, seq: 0 },
      { callHandle: 0xffffffff, epoch: 255, seq: MAX_SEQ },
      { callHandle: 123456789, epoch: 1, seq: 2 ** 32 },
    ]) {
      expect(decodeMediaHeader(encodeMediaHeader(x))).toEqual({ type: 1, ...x });
      expect(readCallHandle(encodeMediaHeader(x))).toBe(x.callHandle);
    }
  });

  test("rejects out-of-range fields and short frames", () => {
    expect(() => encodeMediaHeader({ callHandle: -1, epoch: 0, seq: 0 })).toThrow(MediaHeaderError);
    expect(() => encodeMediaHeader({ callHandle: 2 ** 32, epoch: 0, seq: 0 })).toThrow(MediaHeaderError);
    expect(() => encodeMediaHeader({ callHandle: 1, epoch: 256, seq: 0 })).toThrow(MediaHeaderError);
    expect(() => encodeMediaHeader({ callHandle: 1, epoch: 0, seq: MAX_SEQ + 1 })).toThrow(MediaHeaderError);
    expect(() => encodeMediaHeader({ callHandle: 1, epoch: 0, seq: 1.5 })).toThrow(MediaHeaderError);
    expect(() => decodeMediaHeader(new Uint8Array(11))).toThrow(MediaHeaderError);
    expect(readCallHandle(new Uint8Array(11))).toBeNull();
    const wrongType = encodeMediaHeader({ callHandle: 9, epoch: 0, seq: 0, type: 2 });
    expect(readCallHandle(wrongType)).toBeNull();
  });

  test("reads from a view with an offset", () => {
    const buf = new Uint8Array(20);
    buf.set(encodeMediaHeader({ callHandle: 77, epoch: 3, seq: 99 }), 4);
    expect(decodeMediaHeader(buf.subarray(4))).toEqual({ type: 1, callHandle: 77, epoch: 3, seq: 99 });
    expect(readCallHandle(buf.subarray(4))).toBe(77);
  });
});
