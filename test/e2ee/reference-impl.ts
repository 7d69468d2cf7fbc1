// An independent implementation of PROTOCOL.md §2–§7 for cross-checking pwa/e2ee:
// ECDH from @noble/curves, SHA-256/HMAC/HKDF from @noble/hashes, AES-GCM from node:crypto,
// header and nonce built byte by byte here (not via protocol/media-header.ts), base64url via
// Buffer. Test code only; shares nothing with pwa/e2ee except the SAS table data.

import { p256 } from "@noble/curves/p256";
import { expand, extract } from "@noble/hashes/hkdf";
import { hmac } from "@noble/hashes/hmac";
import { sha256 } from "@noble/hashes/sha2";
import { createCipheriv, createDecipheriv } from "node:crypto";

const te = new TextEncoder();
const cat = (...p: Uint8Array[]) => new Uint8Array(Buffer.concat(p));
export const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
export const unhex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));
export const b64u = (b: Uint8Array) => Buffer.from(b).toString("base64url");

export function refPublicKey(priv: Uint8Array): Uint8Array {
  return p256.getPublicKey(priv, false);
}

export function refCommitment(callId: Uint8Array, pubI: Uint8Array): Uint8Array {
  return sha256(cat(te.encode("voicesrv-commit-v1"), callId, pubI));
}

export function refSharedSecret(priv: Uint8Array, peerPub: Uint8Array): Uint8Array {
  return p256.getSharedSecret(priv, peerPub, true).slice(1); // x coordinate
}

export interface RefSchedule {
  Z: Uint8Array;
  T: Uint8Array;
  PRK: Uint8Array;
  kIR: Uint8Array;
  sIR: Uint8Array;
  kRI: Uint8Array;
  sRI: Uint8Array;
  kC: Uint8Array;
  sas: Uint8Array;
  confirmI: Uint8Array;
  confirmR: Uint8Array;
  sasBits: number;
  sasIndexes: number[];
}

export function refSchedule(Z: Uint8Array, callId: Uint8Array, pubI: Uint8Array, pubR: Uint8Array): RefSchedule {
  const T = sha256(cat(te.encode("voicesrv-e2ee-v1"), callId, pubI, pubR));
  const PRK = extract(sha256, Z, T);
  const x = (info: string, n: number) => expand(sha256, PRK, te.encode(info), n);
  const kC = x("confirm", 32);
  const sas = x("sas", 3);
  const sasBits = sas[0]! * 65536 + sas[1]! * 256 + sas[2]!;
  return {
    Z,
    T,
    PRK,
    kIR: x("media key I->R", 32),
    sIR: x("media salt I->R", 12),
    kRI: x("media key R->I", 32),
    sRI: x("media salt R->I", 12),
    kC,
    sas,
    confirmI: hmac(sha256, kC, te.encode("initiator")),
    confirmR: hmac(sha256, kC, te.encode("responder")),
    sasBits,
    sasIndexes: [Math.floor(sasBits / 2 ** 18) % 64, Math.floor(sasBits / 2 ** 12) % 64, Math.floor(sasBits / 64) % 64, sasBits % 64],
  };
}

export function refRatchet(k: Uint8Array, s: Uint8Array): { k: Uint8Array; s: Uint8Array } {
  const salt = te.encode("ratchet");
  return {
    k: expand(sha256, extract(sha256, k, salt), te.encode("media key"), 32),
    s: expand(sha256, extract(sha256, s, salt), te.encode("media salt"), 12),
  };
}

/** Keys of epoch e, by ratcheting e times. */
export function refEpochKeys(k: Uint8Array, s: Uint8Array, epoch: number): { k: Uint8Array; s: Uint8Array } {
  let cur = { k, s };
  for (let i = 0; i < epoch; i++) cur = refRatchet(cur.k, cur.s);
  return cur;
}

export function refHeader(callHandle: number, epoch: number, seq: number): Uint8Array {
  const h = new Uint8Array(12);
  h[0] = 0x01;
  for (let i = 0; i < 4; i++) h[1 + i] = Math.floor(callHandle / 256 ** (3 - i)) % 256;
  h[5] = epoch;
  for (let i = 0; i < 6; i++) h[6 + i] = Math.floor(seq / 256 ** (5 - i)) % 256;
  return h;
}

export function refNonce(salt: Uint8Array, epoch: number, seq: number): Uint8Array {
  const n = new Uint8Array(salt);
  n[5]! ^= epoch;
  for (let i = 0; i < 6; i++) n[6 + i]! ^= Math.floor(seq / 256 ** (5 - i)) % 256;
  return n;
}

/** kEpoch/sEpoch are the keys of `epoch` already (see refEpochKeys). */
export function refSeal(kEpoch: Uint8Array, sEpoch: Uint8Array, callHandle: number, epoch: number, seq: number, payload: Uint8Array): Uint8Array {
  const header = refHeader(callHandle, epoch, seq);
  const c = createCipheriv("aes-256-gcm", kEpoch, refNonce(sEpoch, epoch, seq));
  c.setAAD(header);
  const ct = Buffer.concat([c.update(payload), c.final(), c.getAuthTag()]);
  return cat(header, ct);
}

/** null if the frame does not authenticate under these keys. */
export function refOpen(kEpoch: Uint8Array, sEpoch: Uint8Array, frame: Uint8Array): Uint8Array | null {
  const header = frame.subarray(0, 12);
  const epoch = header[5]!;
  let seq = 0;
  for (let i = 0; i < 6; i++) seq = seq * 256 + header[6 + i]!;
  try {
    const d = createDecipheriv("aes-256-gcm", kEpoch, refNonce(sEpoch, epoch, seq));
    d.setAAD(header);
    d.setAuthTag(frame.subarray(frame.length - 16));
    return new Uint8Array(Buffer.concat([d.update(frame.subarray(12, frame.length - 16)), d.final()]));
  } catch {
    return null;
  }
}
