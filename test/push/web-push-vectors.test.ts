// RFC 8291 and RFC 8292 known answers (test/vectors/web-push.json, copied from the RFCs): the
// sender's encryption must reproduce the RFC's message byte for byte, the stand-in's decryption
// (node:crypto, test/helpers/push-service.ts) must open it, and the stand-in's VAPID verifier must
// accept the RFC's token, so both sides of the round-trip tests are pinned to the RFCs.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { base64urlDecode, base64urlEncode } from "../../protocol/base64url.ts";
import { deriveContentKeys, ecdhSecret, encryptPushPayload, HEADER_BYTES, MAX_PLAINTEXT_BYTES, PAD_BUCKET } from "../../server/push/payload-cipher.ts";
import { importVapidKeys } from "../../server/push/vapid-keys.ts";
import { signVapidJwt, vapidAuthorization, VAPID_TOKEN_LIFETIME_SECONDS } from "../../server/push/vapid-token.ts";
import { decryptPushBody, verifyVapidAuthorization } from "../helpers/push-service.ts";
import { p256 } from "@noble/curves/p256";

const vectors = JSON.parse(readFileSync(join(import.meta.dirname, "../vectors/web-push.json"), "utf8"));
const A = vectors.rfc8291 as Record<string, string>;
const V = vectors.rfc8292 as { authorization: string; jwtHeader: object; jwtClaims: { aud: string; exp: number; sub: string }; jwk: { x: string; y: string } };
const b = (s: string) => {
  const out = base64urlDecode(s);
  if (!out) throw new Error(`not base64url: ${s}`);
  return out;
};

async function rfcSenderKeys() {
  const pub = b(A.asPublic!);
  const privateKey = await crypto.subtle.importKey(
    "jwk",
    { kty: "EC", crv: "P-256", d: A.asPrivate, x: base64urlEncode(pub.subarray(1, 33)), y: base64urlEncode(pub.subarray(33)) },
    { name: "ECDH", namedCurve: "P-256" },
    false,
    ["deriveBits"],
  );
  return { privateKey, publicKey: pub };
}

describe("RFC 8291 Appendix A", () => {
  it("the fixed salt and sender key pair give the RFC's message byte for byte", async () => {
    const body = await encryptPushPayload(new TextEncoder().encode(A.plaintext), { p256dh: b(A.uaPublic!), auth: b(A.authSecret!) }, { salt: b(A.salt!), senderKeys: await rfcSenderKeys(), padding: "none" });
    expect(base64urlEncode(body.subarray(0, HEADER_BYTES))).toBe(A.header);
    expect(base64urlEncode(body.subarray(HEADER_BYTES))).toBe(A.ciphertext);
    expect(base64urlEncode(body)).toBe(A.body);
  });

  it("the intermediate values are the RFC's (ECDH secret, IKM, CEK, nonce)", async () => {
    const sender = await rfcSenderKeys();
    const secret = await ecdhSecret(sender.privateKey, b(A.uaPublic!));
    expect(base64urlEncode(secret)).toBe(A.ecdhSecret);
    const keys = await deriveContentKeys(secret, b(A.authSecret!), b(A.uaPublic!), b(A.asPublic!), b(A.salt!));
    expect(base64urlEncode(keys.ikm)).toBe(A.ikm);
    expect(base64urlEncode(keys.cek)).toBe(A.cek);
    expect(base64urlEncode(keys.nonce)).toBe(A.nonce);
  });

  it("the stand-in's decryption opens the RFC's message with the user agent's private key", () => {
    expect(decryptPushBody(b(A.body!), b(A.uaPrivate!), b(A.authSecret!)).toString("utf8")).toBe(A.plaintext);
  });

  it("a flipped bit or a wrong auth secret does not decrypt", () => {
    const body = b(A.body!);
    body[body.length - 20]! ^= 1;
    expect(() => decryptPushBody(body, b(A.uaPrivate!), b(A.authSecret!))).toThrow();
    const auth = b(A.authSecret!);
    auth[0]! ^= 1;
    expect(() => decryptPushBody(b(A.body!), b(A.uaPrivate!), auth)).toThrow();
  });

  it("a message with fresh keys is padded to a 256-byte bucket and opens for the subscriber only", async () => {
    const ua = p256.utils.randomPrivateKey();
    const auth = crypto.getRandomValues(new Uint8Array(16));
    const plaintext = new TextEncoder().encode(JSON.stringify({ caller: "Grandma", group: "family" }));
    const body = await encryptPushPayload(plaintext, { p256dh: p256.getPublicKey(ua, false), auth });
    expect(body.length).toBe(HEADER_BYTES + PAD_BUCKET + 16);
    expect(decryptPushBody(body, ua, auth).toString("utf8")).toBe(new TextDecoder().decode(plaintext));
    // A second message has its own salt and sender key.
    const again = await encryptPushPayload(plaintext, { p256dh: p256.getPublicKey(ua, false), auth });
    expect(Buffer.from(again.subarray(0, HEADER_BYTES)).equals(Buffer.from(body.subarray(0, HEADER_BYTES)))).toBe(false);
    expect(() => decryptPushBody(body, p256.utils.randomPrivateKey(), auth)).toThrow();
  });

  it("the largest payload fits in 4096 bytes and one byte more is refused", async () => {
    const ua = p256.getPublicKey(p256.utils.randomPrivateKey(), false);
    const auth = new Uint8Array(16);
    expect((await encryptPushPayload(new Uint8Array(MAX_PLAINTEXT_BYTES), { p256dh: ua, auth })).length).toBe(4096);
    await expect(encryptPushPayload(new Uint8Array(MAX_PLAINTEXT_BYTES + 1), { p256dh: ua, auth })).rejects.toThrow(/at most/);
  });
});

describe("RFC 8292 section 2.4", () => {
  const exp = V.jwtClaims.exp;

  it("the example token's header and claims decode to the RFC's values", () => {
    const [h, c] = V.authorization.slice("vapid t=".length).split(",")[0]!.split(".");
    expect(JSON.parse(Buffer.from(h!, "base64url").toString())).toEqual(V.jwtHeader);
    expect(JSON.parse(Buffer.from(c!, "base64url").toString())).toEqual(V.jwtClaims);
    const k = b(V.authorization.split("k=")[1]!);
    expect(base64urlEncode(k.subarray(1, 33))).toBe(V.jwk.x);
    expect(base64urlEncode(k.subarray(33))).toBe(V.jwk.y);
  });

  it("the stand-in verifies the example ES256 token while it is valid, and not after", () => {
    const ok = verifyVapidAuthorization(V.authorization, { origin: V.jwtClaims.aud, nowSeconds: exp - 3600 });
    expect(ok).toEqual({ ok: true, claims: V.jwtClaims, k: V.authorization.split("k=")[1] });
    expect(verifyVapidAuthorization(V.authorization, { origin: V.jwtClaims.aud, nowSeconds: exp })).toEqual({ ok: false, reason: "JWT expired" });
    expect(verifyVapidAuthorization(V.authorization, { origin: "https://push.example.org", nowSeconds: exp - 3600 }).ok).toBe(false);
  });

  it("a changed signature or a changed claim does not verify", () => {
    const sig = V.authorization.match(/\.([A-Za-z0-9_-]+), k=/)![1]!;
    const badSig = V.authorization.replace(sig, (sig[0] === "A" ? "B" : "A") + sig.slice(1));
    expect(verifyVapidAuthorization(badSig, { origin: V.jwtClaims.aud, nowSeconds: exp - 3600 })).toEqual({ ok: false, reason: "JWT signature does not verify with k" });
    const claims = Buffer.from(JSON.stringify({ ...V.jwtClaims, sub: "mailto:mallory@example.com" })).toString("base64url");
    const parts = V.authorization.split(".");
    const forged = [parts[0], claims, parts[2]].join(".");
    expect(verifyVapidAuthorization(forged, { origin: V.jwtClaims.aud, nowSeconds: exp - 3600 }).ok).toBe(false);
  });

  it("our tokens have the RFC's header, aud = the endpoint's origin, exp within 24 h, and verify", async () => {
    const d = p256.utils.randomPrivateKey();
    const keys = await importVapidKeys(p256.getPublicKey(d, false), d);
    const now = Date.now();
    const header = await vapidAuthorization(keys, new URL("https://fcm.googleapis.com/fcm/send/abc:def"), "mailto:ops@example.org", now);
    expect(header.startsWith(`vapid t=${V.authorization.slice("vapid t=".length).split(".")[0]}.`)).toBe(true);
    expect(header.endsWith(`, k=${keys.publicKeyB64url}`)).toBe(true);
    const r = verifyVapidAuthorization(header, { origin: "https://fcm.googleapis.com", nowSeconds: Math.floor(now / 1000) });
    expect(r).toEqual({ ok: true, claims: { aud: "https://fcm.googleapis.com", exp: Math.floor(now / 1000) + VAPID_TOKEN_LIFETIME_SECONDS, sub: "mailto:ops@example.org" }, k: keys.publicKeyB64url });
    expect(VAPID_TOKEN_LIFETIME_SECONDS).toBeLessThanOrEqual(24 * 3600);
  });

  it("a token signed by another key does not verify with ours", async () => {
    const d1 = p256.utils.randomPrivateKey();
    const d2 = p256.utils.randomPrivateKey();
    const k1 = await importVapidKeys(p256.getPublicKey(d1, false), d1);
    const k2 = await importVapidKeys(p256.getPublicKey(d2, false), d2);
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const jwt = await signVapidJwt(k2.privateKey, { aud: "https://push.example.net", exp, sub: "mailto:a@example.org" });
    expect(verifyVapidAuthorization(`vapid t=${jwt}, k=${k1.publicKeyB64url}`, { origin: "https://push.example.net", nowSeconds: exp - 60 }).ok).toBe(false);
    expect(verifyVapidAuthorization(`vapid t=${jwt}, k=${k2.publicKeyB64url}`, { origin: "https://push.example.net", nowSeconds: exp - 60 }).ok).toBe(true);
  });
});
