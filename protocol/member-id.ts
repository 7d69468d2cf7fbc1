// Member IDs (IDENTITY.md §1): derived from the device key, so they are stable across reloads,
// tabs and server restarts, and nobody can pick one without holding a matching key.
//
// Open choice recorded in docs/IDENTITY-NOTES.md: Crockford base32 is read most significant bit
// first, 5 bits per character, from the start of the hash (the 6 characters use its first
// 30 bits), upper case, no padding, no check symbol.
export const CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export const MEMBER_ID_RE = /^[0-9A-HJKMNP-TV-Z]{6}$/;
const DEVICE_LABEL = new TextEncoder().encode("voicesrv-device-v2");

export function isMemberId(v: unknown): v is string {
  return typeof v === "string" && MEMBER_ID_RE.test(v);
}

export function crockfordBase32(bytes: Uint8Array, chars: number): string {
  let out = "";
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      out += CROCKFORD_ALPHABET[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
    if (out.length === chars) break;
  }
  return out;
}

/** ID = first 6 Crockford base32 characters of SHA-256("voicesrv-device-v2" || D). */
export async function memberIdFor(devicePublicKey: Uint8Array): Promise<string> {
  const input = new Uint8Array(DEVICE_LABEL.length + devicePublicKey.length);
  input.set(DEVICE_LABEL);
  input.set(devicePublicKey, DEVICE_LABEL.length);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", input));
  return crockfordBase32(hash, 6);
}
