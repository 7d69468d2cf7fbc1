// PROTOCOL.md §3. WebCrypto's HKDF always runs Extract then Expand, so every output below is
// HKDF(salt = T, IKM = Z, info, L), which is exactly HKDF-Expand(PRK, info, L) with
// PRK = HKDF-Extract(T, Z); PRK itself never exists in JS memory.

import { bufferSource, concatBytes, utf8, wipe } from "./bytes.ts";

const TRANSCRIPT_LABEL = utf8("voicesrv-e2ee-v1");

export interface RawSchedule {
  kIR: Uint8Array; // 32
  sIR: Uint8Array; // 12
  kRI: Uint8Array; // 32
  sRI: Uint8Array; // 12
  kC: Uint8Array; // 32
  sas: Uint8Array; // 3
}

/** T = SHA-256("voicesrv-e2ee-v1" || callId || pubI || pubR): binds every key to this call and both points. */
export async function transcriptHash(callId: Uint8Array, pubI: Uint8Array, pubR: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.digest("SHA-256", bufferSource(concatBytes(TRANSCRIPT_LABEL, callId, pubI, pubR))),
  );
}

export async function hkdf(ikm: CryptoKey, salt: Uint8Array, info: string, bytes: number): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: bufferSource(salt), info: bufferSource(utf8(info)) }, ikm, bytes * 8),
  );
}

/** Imports raw IKM as a non-extractable HKDF key, then wipes the caller's copy. */
export async function importIkm(raw: Uint8Array): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey("raw", bufferSource(raw), "HKDF", false, ["deriveBits"]);
  } finally {
    wipe(raw);
  }
}

/**
 * Consumes Z (wiped on return). The caller imports the returned key material and wipes it;
 * raw bytes are returned rather than CryptoKeys so the same code path can be checked against
 * the committed test vectors.
 */
export async function deriveSchedule(Z: Uint8Array, T: Uint8Array): Promise<RawSchedule> {
  const prkSource = await importIkm(Z);
  const [kIR, sIR, kRI, sRI, kC, sas] = await Promise.all([
    hkdf(prkSource, T, "media key I->R", 32),
    hkdf(prkSource, T, "media salt I->R", 12),
    hkdf(prkSource, T, "media key R->I", 32),
    hkdf(prkSource, T, "media salt R->I", 12),
    hkdf(prkSource, T, "confirm", 32),
    hkdf(prkSource, T, "sas", 3),
  ]);
  return { kIR: kIR!, sIR: sIR!, kRI: kRI!, sRI: sRI!, kC: kC!, sas: sas! };
}

export function wipeSchedule(s: RawSchedule): void {
  wipe(s.kIR, s.sIR, s.kRI, s.sRI, s.kC, s.sas);
}

/** The 3 sas bytes as a big-endian 24-bit number. */
export function sasBitsOf(sas: Uint8Array): number {
  return (sas[0]! << 16) | (sas[1]! << 8) | sas[2]!;
}
