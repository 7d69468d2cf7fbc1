// PROTOCOL.md §2/§3: ephemeral P-256 key pairs, peer point validation, Z = ECDH(own, peer).

import { bufferSource } from "./bytes.ts";

const EC = { name: "ECDH", namedCurve: "P-256" } as const;
export const POINT_BYTES = 65;

// P-256 domain parameters (SEC 2 / FIPS 186-4), for the on-curve check below.
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

function toBigInt(b: Uint8Array): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

/**
 * Independent of WebCrypto's own check: every engine we target rejects off-curve points in
 * importKey today, but an invalid-curve attack leaks the private key if one ever does not,
 * and this check costs microseconds once per call.
 */
export function isValidUncompressedP256Point(pt: Uint8Array): boolean {
  if (pt.byteLength !== POINT_BYTES || pt[0] !== 0x04) return false;
  const x = toBigInt(pt.subarray(1, 33));
  const y = toBigInt(pt.subarray(33, 65));
  if (x >= P || y >= P) return false;
  const lhs = (y * y) % P;
  const rhs = (((x * x) % P) * x - 3n * x + B) % P;
  // (0,0)-style encodings of infinity fail here too because B != 0.
  return lhs === (rhs + P) % P;
}

/** Fresh per call; the private key can derive bits but never leave WebCrypto. */
export async function generateEphemeralKeyPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(EC, false, ["deriveBits"])) as CryptoKeyPair;
}

export async function exportPublicPoint(publicKey: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.exportKey("raw", publicKey));
}

/** null when the bytes are not a valid P-256 point (our check or WebCrypto's). */
export async function importPeerPoint(pt: Uint8Array): Promise<CryptoKey | null> {
  if (!isValidUncompressedP256Point(pt)) return null;
  try {
    return await crypto.subtle.importKey("raw", bufferSource(pt), EC, true, []);
  } catch {
    return null;
  }
}

export async function sharedSecret(ownPrivate: CryptoKey, peerPublic: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "ECDH", public: peerPublic }, ownPrivate, 256));
}
