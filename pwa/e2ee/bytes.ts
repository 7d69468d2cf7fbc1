// Byte helpers for the E2EE code. Browser + Bun only: no Buffer, no node:crypto.
// The base64url decoder is strict (no padding, no stray characters, canonical trailing bits)
// so that one key-exchange message has exactly one encoding and malformed input is refused
// instead of being "repaired".

export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let len = 0;
  for (const p of parts) len += p.byteLength;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

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

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64URL_INDEX: Record<string, number> = Object.fromEntries([...B64URL].map((c, i) => [c, i]));

export function base64urlEncode(b: Uint8Array): string {
  let s = "";
  let i = 0;
  for (; i + 3 <= b.byteLength; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    s += B64URL[(n >> 18) & 63]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]! + B64URL[n & 63]!;
  }
  const rest = b.byteLength - i;
  if (rest === 1) {
    const n = b[i]! << 16;
    s += B64URL[(n >> 18) & 63]! + B64URL[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8);
    s += B64URL[(n >> 18) & 63]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]!;
  }
  return s;
}

/** Strict decoder; null on anything that is not the canonical unpadded encoding. */
export function base64urlDecode(s: string): Uint8Array | null {
  if (typeof s !== "string" || s.length % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const v = B64URL_INDEX[s[i]!];
    if (v === undefined || !Object.hasOwn(B64URL_INDEX, s[i]!)) return null;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  // Leftover bits must be zero, otherwise two strings would decode to the same bytes.
  if (acc !== 0) return null;
  return out;
}

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
