// Whether a push subscription a client hands in (PushSubscription.toJSON() in the browser) is one
// the server will ever send to. Checked when it is stored and again before every send, so a
// subscription stored under an older allow-list cannot slip through.
//
// Decisions:
// - Keys are base64url; trailing "=" padding is tolerated (some browsers and libraries add it),
//   anything else non-canonical is refused.
// - p256dh must be an uncompressed point on P-256 (a point off the curve is an invalid-curve
//   attack on the ECDH, and also would only make every send fail); auth exactly 16 bytes.
// - Other members (expirationTime, ...) are ignored.
import { p256 } from "@noble/curves/p256";
import { base64urlBytes } from "../../protocol/base64url.ts";
import { checkEndpointUrl, type Checked, type PushTransport } from "./endpoint-guard.ts";

export interface StoredSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface CheckedSubscription {
  endpoint: URL;
  /** The endpoint's host: the only part of a subscription that may be logged. */
  host: string;
  p256dh: Uint8Array;
  auth: Uint8Array;
}

function key(value: unknown, bytes: number): Uint8Array | null {
  if (typeof value !== "string" || value.length > Math.ceil((bytes * 4) / 3) + 2) return null;
  return base64urlBytes(value.replace(/={1,2}$/, ""), bytes);
}

export function checkSubscription(sub: unknown, transport: PushTransport = {}): Checked<{ subscription: CheckedSubscription }> {
  if (typeof sub !== "object" || sub === null || Array.isArray(sub)) return { ok: false, reason: "a subscription is an object {endpoint, keys: {p256dh, auth}}" };
  const s = sub as { endpoint?: unknown; keys?: unknown };
  const endpoint = checkEndpointUrl(s.endpoint, transport);
  if (!endpoint.ok) return endpoint;
  const keys = (typeof s.keys === "object" && s.keys !== null ? s.keys : {}) as { p256dh?: unknown; auth?: unknown };
  const p256dh = key(keys.p256dh, 65);
  if (!p256dh || p256dh[0] !== 4) return { ok: false, reason: "keys.p256dh must be a base64url 65-byte uncompressed P-256 public key" };
  try {
    p256.ProjectivePoint.fromHex(p256dh).assertValidity();
  } catch {
    return { ok: false, reason: "keys.p256dh is not a point on P-256" };
  }
  const auth = key(keys.auth, 16);
  if (!auth) return { ok: false, reason: "keys.auth must be a base64url 16-byte secret" };
  return { ok: true, subscription: { endpoint: endpoint.url, host: endpoint.host, p256dh, auth } };
}
