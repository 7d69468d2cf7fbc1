export const MEMBER_ID_RE = /^[A-Z0-9]{6}$/;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** 6 characters from a CSPRNG; rejection sampling keeps every character equally likely. */
export function randomMemberId(): string {
  let id = "";
  const buf = new Uint8Array(16);
  while (id.length < 6) {
    crypto.getRandomValues(buf);
    for (const b of buf) {
      if (b < 252 && id.length < 6) id += ALPHABET[b % 36];
    }
  }
  return id;
}

export function isMemberId(v: unknown): v is string {
  return typeof v === "string" && MEMBER_ID_RE.test(v);
}
