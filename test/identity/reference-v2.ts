// An independent implementation of IDENTITY.md §5–§6 (key schedule v2 and the identity message)
// for cross-checking pwa/e2ee: @noble/hashes HKDF/HMAC/SHA-256, node:crypto AES-GCM, @noble/curves
// ECDSA. Test code only.
import { p256 } from "@noble/curves/p256";
import { expand, extract } from "@noble/hashes/hkdf";
import { hmac } from "@noble/hashes/hmac";
import { sha256 } from "@noble/hashes/sha2";
import { createCipheriv, createDecipheriv } from "node:crypto";
import { refSign } from "./reference-impl.ts";

const te = new TextEncoder();
const cat = (...p: Uint8Array[]) => new Uint8Array(Buffer.concat(p));

export function refCommitmentV2(callId: Uint8Array, pubI: Uint8Array): Uint8Array {
  return sha256(cat(te.encode("voicesrv-commit-v2"), callId, pubI));
}

export function refScheduleV2(Z: Uint8Array, callId: Uint8Array, pubI: Uint8Array, pubR: Uint8Array, offerI: string, offerR: string, psk: Uint8Array | null) {
  const T = sha256(cat(te.encode("voicesrv-e2ee-v2"), callId, pubI, pubR, sha256(te.encode(offerI)), sha256(te.encode(offerR))));
  const PRK = extract(sha256, cat(Z, psk ?? new Uint8Array(0)), T);
  const x = (info: string, n: number) => expand(sha256, PRK, te.encode(info), n);
  const kC = x("confirm", 32);
  const sas = x("sas", 3);
  return {
    T,
    PRK,
    kIR: x("media key I->R", 32),
    sIR: x("media salt I->R", 12),
    kRI: x("media key R->I", 32),
    sRI: x("media salt R->I", 12),
    kC,
    sas,
    kIdIR: x("identity I->R", 32),
    kIdRI: x("identity R->I", 32),
    confirmI: hmac(sha256, kC, te.encode("initiator")),
    confirmR: hmac(sha256, kC, te.encode("responder")),
  };
}

export const refIdSigned = (T: Uint8Array, role: "I" | "R") => cat(te.encode("voicesrv-id-v2"), T, new Uint8Array([role === "I" ? 0x49 : 0x52]));

export function refSealId(kId: Uint8Array, devicePriv: Uint8Array, T: Uint8Array, role: "I" | "R"): Uint8Array {
  const D = p256.getPublicKey(devicePriv, false);
  const s = refSign(devicePriv, refIdSigned(T, role));
  const c = createCipheriv("aes-256-gcm", kId, new Uint8Array(12));
  return new Uint8Array(Buffer.concat([c.update(cat(D, s)), c.final(), c.getAuthTag()]));
}

export function refOpenId(kId: Uint8Array, e: Uint8Array): { D: Uint8Array; s: Uint8Array } | null {
  try {
    const d = createDecipheriv("aes-256-gcm", kId, new Uint8Array(12));
    d.setAuthTag(e.subarray(e.length - 16));
    const p = new Uint8Array(Buffer.concat([d.update(e.subarray(0, e.length - 16)), d.final()]));
    return { D: p.slice(0, 65), s: p.slice(65) };
  } catch {
    return null;
  }
}
