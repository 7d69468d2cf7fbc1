// base64url without padding (RFC 4648 §5), strict: one byte string has exactly one encoding,
// and malformed input is refused instead of being "repaired". Browser + Bun: no Buffer.
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

/** Decodes only a canonical encoding of exactly `bytes` bytes. */
export function base64urlBytes(s: unknown, bytes: number): Uint8Array | null {
  if (typeof s !== "string" || s.length !== Math.ceil((bytes * 4) / 3)) return null;
  const b = base64urlDecode(s);
  return b && b.length === bytes ? b : null;
}
