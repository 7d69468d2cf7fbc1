// Byte helpers for the E2EE code. Browser + Bun only: no Buffer, no node:crypto.
// The base64url decoder is strict (no padding, no stray characters, canonical trailing bits)
// so that one key-exchange message has exactly one encoding and malformed input is refused
// instead of being "repaired".

export { concatBytes } from "../../protocol/concat-bytes.ts";

/** ASCII/UTF-8 bytes of a protocol label; labels carry no length prefix and no terminator. */
export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

const HEX = "0123456789abcdef";

export function bytesToHex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.byteLength; i++) s += HEX[b[i]! >> 4]! + HEX[b[i]! & 15]!;
  return s;
}

/** Returns null instead of throwing: callers feed it untrusted input. */
export function hexToBytes(hex: string): Uint8Array | null {
  if (typeof hex !== "string" || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export { base64urlDecode, base64urlEncode } from "../../protocol/base64url.ts";

/**
 * Compares secrets-derived values without an early exit, so timing reveals nothing about
 * where they differ. Lengths are public in every use here.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Best effort: JS cannot guarantee no copies exist, but we do not leave ours lying around. */
export function wipe(...bufs: (Uint8Array | null | undefined)[]): void {
  for (const b of bufs) b?.fill(0);
}

/**
 * WebCrypto refuses views of a SharedArrayBuffer (which audio worklets may hand us), and
 * TypeScript ≥ 5.7 types its inputs as ArrayBuffer-backed only; copy in the rare shared case.
 */
export function bufferSource(b: Uint8Array): BufferSource {
  return (b.buffer instanceof ArrayBuffer ? b : new Uint8Array(b)) as BufferSource;
}
