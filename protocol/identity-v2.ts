// IDENTITY.md §1–§3 byte strings and derivations, shared by the server (verification), the app
// (signing) and the tests (against vectors from an independent implementation). WebCrypto only,
// so the same code runs in Bun and in browsers.
//
// Open choices recorded in docs/IDENTITY-NOTES.md:
// - Labels are their ASCII bytes, no length prefix or terminator (as PROTOCOL-NOTES for v1).
// - In the hello signature `utf8(group)` is the canonical group name (the URL path segment the
//   socket was opened on, already lower-case [a-z0-9_-]); `n` is the 32 raw challenge bytes.
// - HKDF-Extract then Expand is WebCrypto's one-step HKDF with the same salt and info.
// - A signed `leave` (§4) signs "voicesrv-leave-v2" || n || utf8(group) with the socket's
//   challenge, so it cannot be replayed on another socket or group.
// - Declining a pushed call from the notification (issue #9) has no socket and so no challenge:
//   the service worker signs "voicesrv-decline-v2" || callId (16 raw bytes) || utf8(group).
//   callId is 16 CSPRNG bytes fresh for every call, so a signature declines that one call only,
//   and only while it rings; the server also checks the key is the called member's.
import { concatBytes } from "./concat-bytes.ts";

export const DEVICE_KEY_BYTES = 65;
export const SIGNATURE_BYTES = 64;
export const CHALLENGE_BYTES = 32;
export const GROUP_SECRET_BYTES = 16;
export const JOIN_KEY_BYTES = 32;
export const PROOF_BYTES = 32;

const te = new TextEncoder();

const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256" } as const;
const ECDSA_SHA256 = { name: "ECDSA", hash: "SHA-256" } as const;


export function helloSignedBytes(challenge: Uint8Array, group: string): Uint8Array<ArrayBuffer> {
  return concatBytes(te.encode("voicesrv-hello-v2"), challenge, te.encode(group));
}

export function leaveSignedBytes(challenge: Uint8Array, group: string): Uint8Array<ArrayBuffer> {
  return concatBytes(te.encode("voicesrv-leave-v2"), challenge, te.encode(group));
}

export function declineSignedBytes(callIdHex: string, group: string): Uint8Array<ArrayBuffer> {
  const id = new Uint8Array(callIdHex.length / 2);
  for (let i = 0; i < id.length; i++) id[i] = parseInt(callIdHex.slice(2 * i, 2 * i + 2), 16);
  return concatBytes(te.encode("voicesrv-decline-v2"), id, te.encode(group));
}

export function joinProofBytes(challenge: Uint8Array, devicePublicKey: Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes(te.encode("voicesrv-join-v2"), challenge, devicePublicKey);
}

/** False for anything that is not a valid P-256 point or not a valid signature by it. */
export async function verifyDeviceSignature(devicePublicKey: Uint8Array, signature: Uint8Array, message: Uint8Array<ArrayBuffer>): Promise<boolean> {
  if (devicePublicKey.length !== DEVICE_KEY_BYTES || devicePublicKey[0] !== 4 || signature.length !== SIGNATURE_BYTES) return false;
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("raw", new Uint8Array(devicePublicKey), ECDSA_P256, false, ["verify"]);
  } catch {
    return false;
  }
  try {
    return await crypto.subtle.verify(ECDSA_SHA256, key, new Uint8Array(signature), message);
  } catch {
    return false;
  }
}

export async function signWithDevice(privateKey: CryptoKey, message: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.sign(ECDSA_SHA256, privateKey, message));
}

async function hkdf(ikm: Uint8Array, salt: string, info: string, bytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const key = await crypto.subtle.importKey("raw", new Uint8Array(ikm), "HKDF", false, ["deriveBits"]);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: te.encode(salt), info: te.encode(info) }, key, bytes * 8));
}

/** §3: joinKey goes to the server at creation; psk never leaves the devices. */
export async function groupKeys(groupSecret: Uint8Array): Promise<{ joinKey: Uint8Array<ArrayBuffer>; psk: Uint8Array<ArrayBuffer> }> {
  if (groupSecret.length !== GROUP_SECRET_BYTES) throw new Error(`a group secret is ${GROUP_SECRET_BYTES} bytes`);
  return {
    joinKey: await hkdf(groupSecret, "voicesrv-group-v2", "join", 32),
    psk: await hkdf(groupSecret, "voicesrv-group-v2", "call psk", 32),
  };
}

export async function joinProof(joinKey: Uint8Array, challenge: Uint8Array, devicePublicKey: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const key = await crypto.subtle.importKey("raw", new Uint8Array(joinKey), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, joinProofBytes(challenge, devicePublicKey)));
}

/** Safety-key fingerprint shown in Settings: SHA-256(D), first 16 bytes as 8 groups of 4 hex. */
export async function deviceFingerprint(devicePublicKey: Uint8Array): Promise<string> {
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(devicePublicKey)));
  const hex = Array.from(h.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
  return hex.match(/.{4}/g)!.join(" ");
}
