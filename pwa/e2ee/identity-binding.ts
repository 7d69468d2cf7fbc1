// IDENTITY.md §6: after its own `confirm`, each side proves which device it is, inside the call's
// key schedule: e = AES-256-GCM(kIdXY, nonce = 12 zero bytes, D || s), with
// s = Sign(device, "voicesrv-id-v2" || T || role) and role the byte 0x49 ("I") or 0x52 ("R").
//
// Decisions (docs/IDENTITY-NOTES.md):
// - The zero nonce is safe because each kIdXY encrypts exactly one message: it is derived per
//   call and per direction and dropped after use.
// - No additional data: T is already inside s, and kIdXY is bound to T by the schedule.
// - The receiver checks, in this order: decryption (a relay without kId cannot make e), the
//   point's shape, the signature over its own T with the *sender's* role (a reflected message
//   carries our role and fails). Whether D is a verified contact is the app's decision.
import { verifyDeviceSignature } from "../../protocol/identity-v2.ts";
import { bufferSource, concatBytes, utf8, wipe } from "./bytes.ts";
import type { Role } from "./role.ts";

export const ID_PLAINTEXT_BYTES = 65 + 64;
export const ID_CIPHERTEXT_BYTES = ID_PLAINTEXT_BYTES + 16;
const ZERO_NONCE = new Uint8Array(12);

/** What the device contributes: its public point and a signer that never exposes the key. */
export interface DeviceSigner {
  publicKey: Uint8Array;
  sign(message: Uint8Array<ArrayBuffer>): Promise<Uint8Array>;
}

export function roleByte(role: Role): number {
  return role === "initiator" ? 0x49 : 0x52;
}

export function idSignedBytes(T: Uint8Array, role: Role): Uint8Array<ArrayBuffer> {
  return concatBytes(utf8("voicesrv-id-v2"), T, new Uint8Array([roleByte(role)]));
}

async function aesKey(kId: Uint8Array, usage: KeyUsage): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey("raw", bufferSource(kId), "AES-GCM", false, [usage]);
  } finally {
    wipe(kId);
  }
}

/** Seals our identity message; consumes (wipes) kId. */
export async function sealIdentity(kId: Uint8Array, T: Uint8Array, role: Role, device: DeviceSigner): Promise<Uint8Array> {
  const key = await aesKey(kId, "encrypt");
  const s = await device.sign(idSignedBytes(T, role));
  if (device.publicKey.length !== 65 || s.length !== 64) throw new TypeError("device key must be a P-256 point with 64-byte signatures");
  const plain = concatBytes(device.publicKey, s);
  return new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: ZERO_NONCE }, key, plain));
}

/** The peer's device point D, or null when the message is not a valid identity for this T. Consumes kId. */
export async function openIdentity(kId: Uint8Array, T: Uint8Array, peerRole: Role, e: Uint8Array): Promise<Uint8Array | null> {
  const key = await aesKey(kId, "decrypt");
  if (e.length !== ID_CIPHERTEXT_BYTES) return null;
  let plain: Uint8Array;
  try {
    plain = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: ZERO_NONCE }, key, bufferSource(e)));
  } catch {
    return null;
  }
  const D = plain.slice(0, 65);
  const s = plain.slice(65);
  return (await verifyDeviceSignature(D, s, idSignedBytes(T, peerRole))) ? D : null;
}
