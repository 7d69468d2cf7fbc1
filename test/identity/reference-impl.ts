// An independent implementation of IDENTITY.md §1–§3 for cross-checking protocol/identity-v2.ts
// and protocol/member-id.ts: ECDSA from @noble/curves, SHA-256/HMAC/HKDF from node:crypto,
// Crockford base32 written here bit by bit with BigInt. Test code only; shares nothing with
// the implementation under test.
import { p256 } from "@noble/curves/p256";
import { createHash, createHmac, hkdfSync } from "node:crypto";

const te = new TextEncoder();
const cat = (...p: Uint8Array[]) => new Uint8Array(Buffer.concat(p));
export const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
export const unhex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));
export const b64u = (b: Uint8Array) => Buffer.from(b).toString("base64url");
export const unb64u = (s: string) => new Uint8Array(Buffer.from(s, "base64url"));

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export function refDevicePublicKey(priv: Uint8Array): Uint8Array {
  return p256.getPublicKey(priv, false);
}

export function refMemberId(D: Uint8Array): string {
  const h = createHash("sha256").update(cat(te.encode("voicesrv-device-v2"), D)).digest();
  const n = BigInt("0x" + h.toString("hex"));
  let id = "";
  for (let i = 0; i < 6; i++) id += CROCKFORD[Number((n >> BigInt(256 - 5 * (i + 1))) & 31n)];
  return id;
}

export const refHelloMessage = (n: Uint8Array, group: string) => cat(te.encode("voicesrv-hello-v2"), n, te.encode(group));
export const refLeaveMessage = (n: Uint8Array, group: string) => cat(te.encode("voicesrv-leave-v2"), n, te.encode(group));

/** ECDSA P-256 / SHA-256, raw r||s (64 bytes), deterministic (RFC 6979) so vectors are stable. */
export function refSign(priv: Uint8Array, message: Uint8Array): Uint8Array {
  return p256.sign(createHash("sha256").update(message).digest(), priv, { prehash: false }).toCompactRawBytes();
}

export function refVerify(D: Uint8Array, sig: Uint8Array, message: Uint8Array): boolean {
  try {
    return p256.verify(sig, createHash("sha256").update(message).digest(), D, { prehash: false, lowS: false });
  } catch {
    return false;
  }
}

export function refGroupKeys(G: Uint8Array): { joinKey: Uint8Array; psk: Uint8Array } {
  const k = (info: string) => new Uint8Array(hkdfSync("sha256", G, te.encode("voicesrv-group-v2"), te.encode(info), 32));
  return { joinKey: k("join"), psk: k("call psk") };
}

export function refJoinProof(joinKey: Uint8Array, n: Uint8Array, D: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha256", joinKey).update(cat(te.encode("voicesrv-join-v2"), n, D)).digest());
}
