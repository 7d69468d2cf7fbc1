// Web Push message encryption (RFC 8291) in the aes128gcm content coding (RFC 8188), with
// WebCrypto only: ECDH P-256, HKDF-SHA-256 and AES-128-GCM are all in Bun's WebCrypto, inside the
// compiled binary too. Checked byte for byte against RFC 8291 Appendix A (test/vectors/web-push.json).
//
// Decisions the RFCs leave open:
// - One record (rs = 4096) per message: the body never exceeds the 4096 bytes every push service
//   must accept, so the plaintext is at most MAX_PLAINTEXT_BYTES.
// - Padding: the record is padded to the next multiple of PAD_BUCKET bytes, so the push service
//   learns the payload's size only to within 256 bytes (a caller's name is in it). `padding:
//   "none"` exists for the RFC's example, which has none.
// - A fresh sender key pair and salt for every message (RFC 8291 §3.4 requires a new key pair).
import { concatBytes } from "../../protocol/concat-bytes.ts";

export const RECORD_SIZE = 4096;
/** salt(16) || rs(4) || idlen(1) || keyid = the sender's 65-byte public key. */
export const HEADER_BYTES = 86;
const TAG_BYTES = 16;
/** The delimiter byte and the tag share the record with the plaintext. */
export const MAX_PLAINTEXT_BYTES = RECORD_SIZE - HEADER_BYTES - TAG_BYTES - 1;
export const PAD_BUCKET = 256;

const P256 = { name: "ECDH", namedCurve: "P-256" } as const;
const text = new TextEncoder();
const KEY_INFO = text.encode("WebPush: info\0");
const CEK_INFO = text.encode("Content-Encoding: aes128gcm\0");
const NONCE_INFO = text.encode("Content-Encoding: nonce\0");

export interface UserAgentKeys {
  /** The subscription's p256dh: uncompressed P-256 point, 65 bytes. */
  p256dh: Uint8Array;
  /** The subscription's auth secret, 16 bytes. */
  auth: Uint8Array;
}

export interface SenderKeyPair {
  privateKey: CryptoKey;
  /** Uncompressed P-256 point, 65 bytes. */
  publicKey: Uint8Array;
}

export interface EncryptOptions {
  /** Fixed salt and sender key pair: only for known-answer tests. */
  salt?: Uint8Array;
  senderKeys?: SenderKeyPair;
  padding?: "bucket" | "none";
}

async function hkdf(salt: Uint8Array, ikm: Uint8Array, info: Uint8Array, bytes: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", ikm as BufferSource, "HKDF", false, ["deriveBits"]);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: salt as BufferSource, info: info as BufferSource }, key, bytes * 8));
}

/** RFC 8291 §3.3–3.4 and RFC 8188 §2.2–2.3: the key schedule from the ECDH secret on. */
export async function deriveContentKeys(ecdhSecret: Uint8Array, auth: Uint8Array, uaPublic: Uint8Array, asPublic: Uint8Array, salt: Uint8Array): Promise<{ ikm: Uint8Array; cek: Uint8Array; nonce: Uint8Array }> {
  const ikm = await hkdf(auth, ecdhSecret, concatBytes(KEY_INFO, uaPublic, asPublic), 32);
  return { ikm, cek: await hkdf(salt, ikm, CEK_INFO, 16), nonce: await hkdf(salt, ikm, NONCE_INFO, 12) };
}

export async function generateSenderKeys(): Promise<SenderKeyPair> {
  const pair = await crypto.subtle.generateKey(P256, true, ["deriveBits"]);
  return { privateKey: pair.privateKey, publicKey: new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)) };
}

export async function ecdhSecret(privateKey: CryptoKey, peerPublic: Uint8Array): Promise<Uint8Array> {
  // importKey refuses a point that is not on the curve.
  const peer = await crypto.subtle.importKey("raw", peerPublic as BufferSource, P256, false, []);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "ECDH", public: peer }, privateKey, 256));
}

/** The whole message body: header || one encrypted record. */
export async function encryptPushPayload(plaintext: Uint8Array, ua: UserAgentKeys, opts: EncryptOptions = {}): Promise<Uint8Array> {
  if (plaintext.byteLength > MAX_PLAINTEXT_BYTES) throw new RangeError(`push payload is ${plaintext.byteLength} bytes; at most ${MAX_PLAINTEXT_BYTES} fit in one message`);
  if (ua.p256dh.byteLength !== 65 || ua.p256dh[0] !== 4) throw new RangeError("p256dh must be a 65-byte uncompressed P-256 point");
  if (ua.auth.byteLength !== 16) throw new RangeError("auth must be 16 bytes");
  const salt = opts.salt ?? crypto.getRandomValues(new Uint8Array(16));
  if (salt.byteLength !== 16) throw new RangeError("salt must be 16 bytes");
  const sender = opts.senderKeys ?? (await generateSenderKeys());
  const secret = await ecdhSecret(sender.privateKey, ua.p256dh);
  const { cek, nonce } = await deriveContentKeys(secret, ua.auth, ua.p256dh, sender.publicKey, salt);

  const contentBytes = opts.padding === "none" ? plaintext.byteLength + 1 : Math.min(Math.ceil((plaintext.byteLength + 1) / PAD_BUCKET) * PAD_BUCKET, MAX_PLAINTEXT_BYTES + 1);
  const content = new Uint8Array(contentBytes);
  content.set(plaintext);
  // 0x02: the last (here: only) record; zeros after it are padding.
  content[plaintext.byteLength] = 2;
  const key = await crypto.subtle.importKey("raw", cek as BufferSource, "AES-GCM", false, ["encrypt"]);
  const record = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce as BufferSource }, key, content));

  const header = new Uint8Array(HEADER_BYTES);
  header.set(salt, 0);
  new DataView(header.buffer).setUint32(16, RECORD_SIZE);
  header[20] = 65;
  header.set(sender.publicKey, 21);
  return concatBytes(header, record);
}
