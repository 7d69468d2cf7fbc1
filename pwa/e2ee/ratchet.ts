// PROTOCOL.md §6 nonce and §7 ratchet for one direction of media.
//   k' = HKDF-Expand(HKDF-Extract(salt = "ratchet", IKM = k), "media key", 32)
//   s' = HKDF-Expand(HKDF-Extract(salt = "ratchet", IKM = s), "media salt", 12)
// The AES key k is needed both as an AES-GCM key and as HKDF input for the next epoch, and
// WebCrypto cannot use one CryptoKey for both, so k is imported twice (both non-extractable)
// and the raw bytes are wiped immediately.

import { bufferSource, utf8, wipe } from "./bytes.ts";
import { hkdf, importIkm } from "./key-schedule.ts";

export const MAX_EPOCH = 0xff; // epoch is a u8 in the header
const RATCHET_SALT = utf8("ratchet");

export type Usage = "encrypt" | "decrypt";

export interface EpochKeys {
  readonly epoch: number;
  readonly usage: Usage;
  readonly aesKey: CryptoKey; // AES-256-GCM, non-extractable, single usage
  readonly keyIkm: CryptoKey; // same k as HKDF input, for the next ratchet step only
  readonly salt: Uint8Array; // 12 bytes; wiped when the epoch is dropped
}

/** Consumes (wipes) the raw key and copies the salt so the caller may wipe its own. */
export async function importEpochKeys(rawKey: Uint8Array, salt: Uint8Array, usage: Usage, epoch = 0): Promise<EpochKeys> {
  if (rawKey.byteLength !== 32 || salt.byteLength !== 12) throw new RangeError("media key must be 32 bytes, salt 12");
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > MAX_EPOCH) throw new RangeError("epoch must be a u8");
  try {
    const aesKey = await crypto.subtle.importKey("raw", bufferSource(rawKey), { name: "AES-GCM" }, false, [usage]);
    const keyIkm = await crypto.subtle.importKey("raw", bufferSource(rawKey), "HKDF", false, ["deriveBits"]);
    return { epoch, usage, aesKey, keyIkm, salt: salt.slice() };
  } finally {
    wipe(rawKey);
  }
}

export async function nextEpochKeys(cur: EpochKeys): Promise<EpochKeys> {
  if (cur.epoch >= MAX_EPOCH) throw new RangeError("epoch counter exhausted");
  const k = await hkdf(cur.keyIkm, RATCHET_SALT, "media key", 32);
  const s = await hkdf(await importIkm(cur.salt.slice()), RATCHET_SALT, "media salt", 12);
  try {
    return await importEpochKeys(k, s, cur.usage, cur.epoch + 1);
  } finally {
    wipe(s);
  }
}

export function dropEpochKeys(k: EpochKeys | null | undefined): void {
  // CryptoKeys cannot be wiped, only unreferenced; the salt at least we can clear.
  if (k) wipe(k.salt);
}

/**
 * nonce = salt XOR (0x00 x5 || u8 epoch || u48 seq). The last 7 bytes are exactly header
 * bytes 5..11, so the nonce is computed from the header that is also the AAD: a frame cannot
 * claim one (epoch, seq) in its header and be sealed under another.
 */
export function frameNonce(salt: Uint8Array, header: Uint8Array): Uint8Array {
  const n = salt.slice(0, 12);
  for (let i = 5; i < 12; i++) n[i] = n[i]! ^ header[i]!;
  return n;
}
