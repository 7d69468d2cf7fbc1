// A push service for tests: a real HTTPS server on 127.0.0.1 (ephemeral port, a certificate for
// "push.test" from a CA made here) that acts as FCM/Apple/Mozilla do for the parts voicesrv
// relies on. It hands out subscriptions (a fresh user-agent P-256 key pair and auth secret each,
// as a browser would), checks every request's VAPID credentials (ES256 JWT with the k= key,
// aud = its origin, exp within 24 h, sub present, and the subscription's applicationServerKey if
// one was given), decrypts the aes128gcm body with the subscription's private key, and records
// what arrived. It can be told to answer 404/410/500 or a redirect for a subscription.
//
// Its checks use node:crypto (createECDH, hkdfSync, AES-GCM decipher, ECDSA verify), not the
// WebCrypto code the sender uses, so a shared mistake cannot make both sides agree.
//
//   const ps = await startPushService();
//   const sub = ps.subscribe();                     // {endpoint, keys: {p256dh, auth}}
//   const sender = createPushSender({ keys, subject, transport: ps.transport });
//   await sender.send(sub, { hello: 1 }, { ttlSeconds: 60 });
//   ps.received(sub)[0].payload                     // { hello: 1 }
//   await ps.stop();
//
// `ps.transport` resolves push.test to 127.0.0.1, trusts the CA and sets the two test-only
// permissions (loopback for .test names, any port):
// pass it to the sender (or the server) under test. No traffic leaves loopback.
import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify, type ECDH } from "node:crypto";
import { createCA, issueServerCertificate } from "../../certs/index.ts";
import type { PushTransport } from "../../server/push/endpoint-guard.ts";

export const PUSH_TEST_HOST = "push.test";

export interface StandInSubscription {
  endpoint: string;
  expirationTime: null;
  keys: { p256dh: string; auth: string };
}

export interface ReceivedPush {
  endpoint: string;
  ttl: string | null;
  urgency: string | null;
  topic: string | null;
  contentEncoding: string | null;
  /** The decrypted body as text, and parsed when it is JSON. */
  plaintext: string;
  payload: unknown;
  /** Encrypted body length (header + record). */
  bodyBytes: number;
  claims: { aud: string; exp: number; sub: string };
  /** The k= key of the Authorization header. */
  k: string;
  /** The Host header as sent. */
  hostHeader: string | null;
}

export interface Rejection {
  endpoint: string;
  status: number;
  reason: string;
}

/** 201 (default), another status, or a redirect to `location`. */
export type Answer = number | { redirect: string; status?: 301 | 302 | 303 | 307 | 308 };

export interface PushServiceStandIn {
  readonly host: string;
  readonly port: number;
  /** https://push.test:<port>: the `aud` every JWT must carry. */
  readonly origin: string;
  readonly caPem: string;
  /** What the sender under test needs to reach this service (see the header). */
  readonly transport: PushTransport;
  subscribe(opts?: { applicationServerKey?: string }): StandInSubscription;
  /** Pushes that passed every check, oldest first; all of them without `sub`. */
  received(sub?: StandInSubscription): ReceivedPush[];
  /** Requests refused for bad credentials or bodies. */
  rejected(): Rejection[];
  /** Every request that reached the server (accepted, refused or answered as told). */
  requestCount(): number;
  answer(sub: StandInSubscription, answer: Answer): void;
  /** Resolves with the next push for `sub` (or one already there beyond `after`). */
  waitForPush(sub: StandInSubscription, opts?: { after?: number; timeoutMs?: number }): Promise<ReceivedPush>;
  stop(): Promise<void>;
}

interface Entry {
  id: string;
  sub: StandInSubscription;
  ecdh: ECDH;
  auth: Buffer;
  applicationServerKey?: string;
  answer: Answer;
}

const b64u = (b: Uint8Array) => Buffer.from(b).toString("base64url");

/** RFC 8291 decryption as a browser does it (node:crypto only). Throws on any mismatch. */
export function decryptPushBody(body: Uint8Array, uaPrivate: Uint8Array, auth: Uint8Array): Buffer {
  const buf = Buffer.from(body);
  if (buf.length < 86 + 17) throw new Error("body shorter than header + tag");
  const salt = buf.subarray(0, 16);
  const rs = buf.readUInt32BE(16);
  const idlen = buf[20]!;
  if (idlen !== 65) throw new Error(`keyid length ${idlen}, want 65`);
  const asPublic = buf.subarray(21, 86);
  const record = buf.subarray(86);
  if (record.length > rs) throw new Error("more than one record");
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(Buffer.from(uaPrivate));
  const secret = ecdh.computeSecret(asPublic);
  const uaPublic = ecdh.getPublicKey();
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0"), uaPublic, asPublic]);
  const ikm = Buffer.from(hkdfSync("sha256", secret, Buffer.from(auth), keyInfo, 32));
  const cek = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: aes128gcm\0"), 16));
  const nonce = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: nonce\0"), 12));
  const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== 2) throw new Error("no last-record delimiter (0x02)");
  return padded.subarray(0, end);
}

export type VapidCheck = { ok: true; claims: { aud: string; exp: number; sub: string }; k: string } | { ok: false; reason: string };

/** RFC 8292 verification as a push service does it, with node:crypto. */
export function verifyVapidAuthorization(header: string | null, expect: { origin: string; nowSeconds: number; key?: string }): VapidCheck {
  const m = header?.match(/^vapid t=([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+),\s*k=([A-Za-z0-9_-]+)$/);
  if (!m) return { ok: false, reason: "Authorization is not `vapid t=<jwt>, k=<key>`" };
  const [, h, c, s, k] = m as unknown as [string, string, string, string, string];
  let jwtHeader: { alg?: unknown; typ?: unknown };
  let claims: { aud?: unknown; exp?: unknown; sub?: unknown };
  try {
    jwtHeader = JSON.parse(Buffer.from(h, "base64url").toString("utf8"));
    claims = JSON.parse(Buffer.from(c, "base64url").toString("utf8"));
  } catch {
    return { ok: false, reason: "JWT parts are not base64url JSON" };
  }
  if (jwtHeader.alg !== "ES256" || (jwtHeader.typ !== undefined && jwtHeader.typ !== "JWT")) return { ok: false, reason: "JWT header is not {typ: JWT, alg: ES256}" };
  const point = Buffer.from(k, "base64url");
  if (point.length !== 65 || point[0] !== 4) return { ok: false, reason: "k is not an uncompressed P-256 point" };
  if (expect.key !== undefined && k !== expect.key) return { ok: false, reason: "k is not the subscription's applicationServerKey" };
  let valid = false;
  try {
    const key = createPublicKey({ key: { kty: "EC", crv: "P-256", x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33)) }, format: "jwk" });
    valid = verify("sha256", Buffer.from(`${h}.${c}`), { key, dsaEncoding: "ieee-p1363" }, Buffer.from(s, "base64url"));
  } catch (e) {
    return { ok: false, reason: `k is not a usable key: ${(e as Error).message}` };
  }
  if (!valid) return { ok: false, reason: "JWT signature does not verify with k" };
  if (claims.aud !== expect.origin) return { ok: false, reason: `aud ${JSON.stringify(claims.aud)} is not ${expect.origin}` };
  if (typeof claims.exp !== "number" || !Number.isInteger(claims.exp)) return { ok: false, reason: "exp missing" };
  if (claims.exp <= expect.nowSeconds) return { ok: false, reason: "JWT expired" };
  if (claims.exp > expect.nowSeconds + 24 * 3600) return { ok: false, reason: "exp more than 24 hours ahead" };
  if (typeof claims.sub !== "string" || !/^(mailto:|https:)/.test(claims.sub)) return { ok: false, reason: "sub missing or not mailto:/https:" };
  return { ok: true, claims: { aud: claims.aud, exp: claims.exp, sub: claims.sub }, k };
}

export async function startPushService(): Promise<PushServiceStandIn> {
  const ca = await createCA({ commonName: "voicesrv test CA for the push service stand-in", days: 2 });
  const tls = await issueServerCertificate(ca, { hostnames: [PUSH_TEST_HOST], ips: [], days: 2 });
  const entries = new Map<string, Entry>();
  const received: ReceivedPush[] = [];
  const rejections: Rejection[] = [];
  const waiters = new Set<() => void>();
  let requests = 0;
  let origin = "";

  const reject = (endpoint: string, status: number, reason: string) => {
    rejections.push({ endpoint, status, reason });
    return Response.json({ reason }, { status });
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: tls.certPem, key: tls.keyPem },
    async fetch(req) {
      requests++;
      const url = new URL(req.url);
      const entry = entries.get(url.pathname.replace(/^\/push\//, ""));
      const endpoint = entry?.sub.endpoint ?? `${origin}${url.pathname}`;
      if (req.method !== "POST") return reject(endpoint, 405, "POST only");
      if (!entry) return reject(endpoint, 404, "no such subscription");
      const answer = entry.answer;
      if (typeof answer === "object") return new Response(null, { status: answer.status ?? 302, headers: { Location: answer.redirect } });
      if (answer !== 201) return Response.json({ reason: `told to answer ${answer}` }, { status: answer });

      const vapid = verifyVapidAuthorization(req.headers.get("authorization"), { origin, nowSeconds: Math.floor(Date.now() / 1000), key: entry.applicationServerKey });
      if (!vapid.ok) return reject(endpoint, 403, vapid.reason);
      if (req.headers.get("ttl") === null || !/^\d+$/.test(req.headers.get("ttl")!)) return reject(endpoint, 400, "TTL header missing");
      if (req.headers.get("content-encoding") !== "aes128gcm") return reject(endpoint, 400, "Content-Encoding is not aes128gcm");
      const body = new Uint8Array(await req.arrayBuffer());
      if (body.length > 4096) return reject(endpoint, 413, "body over 4096 bytes");
      let plaintext: string;
      try {
        plaintext = decryptPushBody(body, entry.ecdh.getPrivateKey(), entry.auth).toString("utf8");
      } catch (e) {
        return reject(endpoint, 400, `cannot decrypt: ${(e as Error).message}`);
      }
      let payload: unknown = undefined;
      try {
        payload = JSON.parse(plaintext);
      } catch {
        // Not JSON: kept as text only.
      }
      received.push({
        endpoint,
        ttl: req.headers.get("ttl"),
        urgency: req.headers.get("urgency"),
        topic: req.headers.get("topic"),
        contentEncoding: req.headers.get("content-encoding"),
        plaintext,
        payload,
        bodyBytes: body.length,
        claims: vapid.claims,
        k: vapid.k,
        hostHeader: req.headers.get("host"),
      });
      for (const w of [...waiters]) w();
      return new Response(null, { status: 201, headers: { Location: `/message/${b64u(randomBytes(12))}` } });
    },
  });
  const port = server.port!;
  origin = `https://${PUSH_TEST_HOST}:${port}`;

  const transport: PushTransport = {
    hosts: [PUSH_TEST_HOST],
    resolve: async (name) => {
      if (name === PUSH_TEST_HOST) return ["127.0.0.1"];
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: "ENOTFOUND" });
    },
    ca: ca.certPem,
    allowLoopbackForTests: true,
    allowAnyPortForTests: true,
  };

  const forSub = (sub: StandInSubscription) => received.filter((r) => r.endpoint === sub.endpoint);

  return {
    host: PUSH_TEST_HOST,
    port,
    origin,
    caPem: ca.certPem,
    transport,
    subscribe(opts = {}) {
      const id = b64u(randomBytes(24));
      const ecdh = createECDH("prime256v1");
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const sub: StandInSubscription = { endpoint: `${origin}/push/${id}`, expirationTime: null, keys: { p256dh: b64u(ecdh.getPublicKey()), auth: b64u(auth) } };
      entries.set(id, { id, sub, ecdh, auth, applicationServerKey: opts.applicationServerKey, answer: 201 });
      return sub;
    },
    received: (sub) => (sub ? forSub(sub) : [...received]),
    rejected: () => [...rejections],
    requestCount: () => requests,
    answer(sub, answer) {
      const entry = [...entries.values()].find((e) => e.sub.endpoint === sub.endpoint);
      if (!entry) throw new Error("not a subscription of this push service");
      entry.answer = answer;
    },
    waitForPush(sub, opts = {}) {
      const after = opts.after ?? 0;
      return new Promise((resolve, reject) => {
        const check = () => {
          const got = forSub(sub);
          if (got.length > after) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(got[after]!);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no push for the subscription within ${opts.timeoutMs ?? 10_000} ms (${rejections.length} refused: ${rejections.map((r) => r.reason).join("; ")})`));
        }, opts.timeoutMs ?? 10_000);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      await server.stop(true);
    },
  };
}
