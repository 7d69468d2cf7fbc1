// Imports a fixed P-256 private scalar into WebCrypto (JWK d/x/y), non-extractable like the
// production keys, so the key exchange can be run against the committed test vectors.

import { p256 } from "@noble/curves/p256";

const b64u = (b: Uint8Array) => Buffer.from(b).toString("base64url");

export async function importFixedKeyPair(privHex: string): Promise<CryptoKeyPair> {
  const d = new Uint8Array(Buffer.from(privHex, "hex"));
  const pub = p256.getPublicKey(d, false);
  const jwk = { kty: "EC", crv: "P-256", d: b64u(d), x: b64u(pub.subarray(1, 33)), y: b64u(pub.subarray(33)), ext: false };
  const ec = { name: "ECDH", namedCurve: "P-256" };
  const privateKey = await crypto.subtle.importKey("jwk", jwk, ec, false, ["deriveBits"]);
  const publicKey = await crypto.subtle.importKey("raw", pub as Uint8Array<ArrayBuffer>, ec, true, []);
  return { privateKey, publicKey };
}
