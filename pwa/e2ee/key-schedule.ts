// PROTOCOL.md §3, and IDENTITY.md §5 for v2. WebCrypto's HKDF always runs Extract then Expand,
// so every output below is HKDF(salt = T, IKM, info, L), which is exactly
// HKDF-Expand(PRK, info, L) with PRK = HKDF-Extract(T, IKM); PRK never exists in JS memory.
// v1: IKM = Z. v2: IKM = Z || psk (psk empty in open groups), T also binds both codec offers,
// and two more expansions key the identity messages (§6).

import { bufferSource, concatBytes, utf8, wipe } from "./bytes.ts";

const TRANSCRIPT_LABEL = utf8("voicesrv-e2ee-v1");
const TRANSCRIPT_LABEL_V2 = utf8("voicesrv-e2ee-v2");

/** What v2 adds to the schedule: the exact codec offers each side sent, and the group's psk. */
export interface ScheduleV2 {
  offerI: Uint8Array;
  offerR: Uint8Array;
  /** 32 bytes in a private group; null (empty) in an open one. */
  psk: Uint8Array | null;
}

export interface RawSchedule {
  kIR: Uint8Array; // 32
  sIR: Uint8Array; // 12
  kRI: Uint8Array; // 32
  sRI: Uint8Array; // 12
  kC: Uint8Array; // 32
  sas: Uint8Array; // 3
  /** v2 only (IDENTITY.md §5): keys of the identity messages, one per direction. */
  kIdIR?: Uint8Array; // 32
  kIdRI?: Uint8Array; // 32
}

/** T = SHA-256("voicesrv-e2ee-v1" || callId || pubI || pubR): binds every key to this call and both points. */
export async function transcriptHash(callId: Uint8Array, pubI: Uint8Array, pubR: Uint8Array, v2?: Pick<ScheduleV2, "offerI" | "offerR">): Promise<Uint8Array> {
  if (!v2) return new Uint8Array(await crypto.subtle.digest("SHA-256", bufferSource(concatBytes(TRANSCRIPT_LABEL, callId, pubI, pubR))));
  // v2: T = SHA-256("voicesrv-e2ee-v2" || callId || pubI || pubR || SHA-256(offerI) || SHA-256(offerR))
  const hI = new Uint8Array(await crypto.subtle.digest("SHA-256", bufferSource(v2.offerI)));
  const hR = new Uint8Array(await crypto.subtle.digest("SHA-256", bufferSource(v2.offerR)));
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bufferSource(concatBytes(TRANSCRIPT_LABEL_V2, callId, pubI, pubR, hI, hR))));
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
export async function deriveSchedule(Z: Uint8Array, T: Uint8Array, v2?: Pick<ScheduleV2, "psk">): Promise<RawSchedule> {
  // v2: IKM = Z || psk. The concatenation is wiped by importIkm; Z is wiped here.
  const ikm = v2 ? concatBytes(Z, v2.psk ?? new Uint8Array(0)) : Z;
  if (v2) wipe(Z);
  const prkSource = await importIkm(ikm);
  const [kIR, sIR, kRI, sRI, kC, sas] = await Promise.all([
    hkdf(prkSource, T, "media key I->R", 32),
    hkdf(prkSource, T, "media salt I->R", 12),
    hkdf(prkSource, T, "media key R->I", 32),
    hkdf(prkSource, T, "media salt R->I", 12),
    hkdf(prkSource, T, "confirm", 32),
    hkdf(prkSource, T, "sas", 3),
  ]);
  const out: RawSchedule = { kIR: kIR!, sIR: sIR!, kRI: kRI!, sRI: sRI!, kC: kC!, sas: sas! };
  if (v2) {
    out.kIdIR = await hkdf(prkSource, T, "identity I->R", 32);
    out.kIdRI = await hkdf(prkSource, T, "identity R->I", 32);
  }
  return out;
}

export function wipeSchedule(s: RawSchedule): void {
  wipe(s.kIR, s.sIR, s.kRI, s.sRI, s.kC, s.sas, s.kIdIR, s.kIdRI);
}

/** The 3 sas bytes as a big-endian 24-bit number. */
export function sasBitsOf(sas: Uint8Array): number {
  return (sas[0]! << 16) | (sas[1]! << 8) | sas[2]!;
}
