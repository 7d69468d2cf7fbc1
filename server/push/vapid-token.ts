// The VAPID credentials of one push request (RFC 8292): an ES256 JWT naming the push service's
// origin (aud), an expiry (exp) and a contact (sub), plus the public key that verifies it:
//   Authorization: vapid t=<jwt>, k=<public key, base64url>
//
// Decisions the RFC leaves open:
// - exp is 12 hours ahead: RFC 8292 allows at most 24 h, and some services refuse tokens close
//   to that limit when clocks differ. A new token per request: signing costs well under a
//   millisecond and there is nothing to expire or invalidate.
// - Claims in the order aud, exp, sub and no others (no iat: not every service accepts one).
import { base64urlEncode } from "../../protocol/base64url.ts";

export const VAPID_TOKEN_LIFETIME_SECONDS = 12 * 3600;

const JWT_HEADER = base64urlEncode(new TextEncoder().encode(JSON.stringify({ typ: "JWT", alg: "ES256" })));

export interface VapidSigner {
  /** ECDSA P-256 signing key. */
  privateKey: CryptoKey;
  publicKeyB64url: string;
}

/** `aud`: the push resource's origin, e.g. "https://fcm.googleapis.com" (RFC 8292 §2). */
export function vapidAudience(endpoint: URL): string {
  return endpoint.origin;
}

export async function signVapidJwt(privateKey: CryptoKey, claims: { aud: string; exp: number; sub: string }): Promise<string> {
  const body = base64urlEncode(new TextEncoder().encode(JSON.stringify({ aud: claims.aud, exp: claims.exp, sub: claims.sub })));
  const input = `${JWT_HEADER}.${body}`;
  // WebCrypto's ECDSA signature is r || s (64 bytes), exactly JWS's ES256 form (RFC 7518 §3.4).
  const sig = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, new TextEncoder().encode(input)));
  return `${input}.${base64urlEncode(sig)}`;
}

export async function vapidAuthorization(signer: VapidSigner, endpoint: URL, subject: string, nowMs = Date.now()): Promise<string> {
  const exp = Math.floor(nowMs / 1000) + VAPID_TOKEN_LIFETIME_SECONDS;
  const jwt = await signVapidJwt(signer.privateKey, { aud: vapidAudience(endpoint), exp, sub: subject });
  return `vapid t=${jwt}, k=${signer.publicKeyB64url}`;
}
