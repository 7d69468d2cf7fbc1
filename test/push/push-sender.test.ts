// The sender against the push-service stand-in over real HTTPS on loopback: VAPID verified,
// payload decrypted, headers as asked; 404/410 reported as gone, 5xx and refusals counted as
// failures; logs name the host only.
import { mkdtemp, rm } from "node:fs/promises";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import { createCA, issueServerCertificate } from "../../certs/index.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPushSender, loadOrCreateVapidKeys, type LoadedVapidKeys, type PushTransport } from "../../server/push/index.ts";
import { countingListener } from "../helpers/counting-listener.ts";
import { startPushService, type PushServiceStandIn } from "../helpers/push-service.ts";
import { capturingLogger } from "../helpers/server.ts";

let ps: PushServiceStandIn;
let keys: LoadedVapidKeys;
let dataDir: string;
const SUBJECT = "mailto:ops@example.org";

beforeAll(async () => {
  ps = await startPushService();
  dataDir = await mkdtemp(join(tmpdir(), "voicesrv-push-"));
  keys = await loadOrCreateVapidKeys(dataDir);
});

afterAll(async () => {
  await ps?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const ringing = { type: "ring", caller: "Grandma", group: "family", callId: "c0ffee", expires: 1_900_000_000_000 };

describe("push sender round trip", () => {
  it("delivers an encrypted payload the subscriber decrypts, with TTL, Urgency and Topic", async () => {
    const log = capturingLogger();
    const sender = createPushSender({ keys, subject: SUBJECT, transport: ps.transport, log });
    const sub = ps.subscribe({ applicationServerKey: keys.publicKeyB64url });
    const r = await sender.send(sub, ringing, { ttlSeconds: 45, urgency: "high", topic: "call-c0ffee" });
    expect(r).toEqual({ ok: true, status: 201 });
    const [got, ...more] = ps.received(sub);
    expect(more).toEqual([]);
    expect(got!.payload).toEqual(ringing);
    expect(got!).toMatchObject({ ttl: "45", urgency: "high", topic: "call-c0ffee", contentEncoding: "aes128gcm", k: keys.publicKeyB64url, hostHeader: `push.test:${ps.port}` });
    expect(got!.claims.aud).toBe(ps.origin);
    expect(got!.claims.sub).toBe(SUBJECT);
    expect(got!.claims.exp - Date.now() / 1000).toBeLessThanOrEqual(24 * 3600);
    expect(sender.stats()).toEqual({ sent: 1, failed: 0, gone: 0, lastFailure: null });
    expect(log.lines).toEqual([]);
  });

  it("a later message with the same topic carries it again (a missed-call notice replaces the ring)", async () => {
    const sender = createPushSender({ keys, subject: SUBJECT, transport: ps.transport });
    const sub = ps.subscribe();
    await sender.send(sub, ringing, { ttlSeconds: 30, urgency: "high", topic: "call-c0ffee" });
    await sender.send(sub, { ...ringing, type: "missed" }, { ttlSeconds: 86_400, urgency: "normal", topic: "call-c0ffee" });
    expect(ps.received(sub).map((p) => [p.topic, p.urgency, (p.payload as { type: string }).type])).toEqual([
      ["call-c0ffee", "high", "ring"],
      ["call-c0ffee", "normal", "missed"],
    ]);
  });

  it("the stand-in refuses a token signed by a key other than the subscription's, and the sender counts it", async () => {
    const otherDir = await mkdtemp(join(tmpdir(), "voicesrv-push-"));
    try {
      const other = await loadOrCreateVapidKeys(otherDir);
      const sender = createPushSender({ keys: other, subject: SUBJECT, transport: ps.transport });
      const sub = ps.subscribe({ applicationServerKey: keys.publicKeyB64url });
      const r = await sender.send(sub, ringing, { ttlSeconds: 30 });
      expect(r).toMatchObject({ ok: false, status: 403 });
      expect((r as { reason: string }).reason).toMatch(/^403 VAPID credentials refused: k is not the subscription's applicationServerKey/);
      expect(ps.received(sub)).toEqual([]);
      expect(sender.stats()).toMatchObject({ sent: 0, failed: 1, gone: 0 });
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it("410 and 404 are reported as gone, not as failures", async () => {
    const log = capturingLogger();
    const sender = createPushSender({ keys, subject: SUBJECT, transport: ps.transport, log });
    const a = ps.subscribe();
    const b = ps.subscribe();
    ps.answer(a, 410);
    ps.answer(b, 404);
    expect(await sender.send(a, ringing, { ttlSeconds: 30 })).toEqual({ ok: false, gone: true, status: 410 });
    expect(await sender.send(b, ringing, { ttlSeconds: 30 })).toEqual({ ok: false, gone: true, status: 404 });
    expect(sender.stats()).toEqual({ sent: 0, failed: 0, gone: 2, lastFailure: null });
    expect(log.lines.every((l) => l.startsWith("info push subscription gone"))).toBe(true);
  });

  it("a 500 is a failure: counted, remembered with time, host and status, logged without the endpoint's path", async () => {
    const log = capturingLogger();
    const sender = createPushSender({ keys, subject: SUBJECT, transport: ps.transport, log, now: () => Date.parse("2026-12-01T12:00:00Z") });
    const sub = ps.subscribe();
    ps.answer(sub, 500);
    const r = await sender.send(sub, ringing, { ttlSeconds: 30 });
    expect(r).toEqual({ ok: false, status: 500, reason: "500 push service error: told to answer 500" });
    expect(sender.stats()).toEqual({ sent: 0, failed: 1, gone: 0, lastFailure: { time: "2026-12-01T12:00:00.000Z", host: "push.test", status: 500, reason: "500 push service error: told to answer 500" } });
    const secretPart = new URL(sub.endpoint).pathname.split("/").pop()!;
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toContain("push.test");
    for (const secret of [secretPart, sub.keys.p256dh, sub.keys.auth, keys.publicKeyB64url, "Grandma"]) expect(log.lines.join("\n")).not.toContain(secret);
    expect(JSON.stringify(sender.stats())).not.toContain(secretPart);
  });

  it("refuses bad options and payloads before anything is sent", async () => {
    const sender = createPushSender({ keys, subject: SUBJECT, transport: ps.transport });
    const sub = ps.subscribe();
    const before = ps.requestCount();
    expect(await sender.send(sub, ringing, { ttlSeconds: 30, topic: "has spaces" })).toMatchObject({ ok: false, reason: expect.stringMatching(/^topic/) });
    expect(await sender.send(sub, ringing, { ttlSeconds: 30, topic: "x".repeat(33) })).toMatchObject({ ok: false });
    expect(await sender.send(sub, ringing, { ttlSeconds: -1 })).toMatchObject({ ok: false, reason: expect.stringMatching(/^ttlSeconds/) });
    expect(await sender.send(sub, { big: "x".repeat(4000) }, { ttlSeconds: 30 })).toMatchObject({ ok: false, reason: expect.stringMatching(/more than the 3993/) });
    expect(await sender.send({ ...sub, keys: { ...sub.keys, auth: "short" } }, ringing, { ttlSeconds: 30 })).toMatchObject({ ok: false, reason: expect.stringMatching(/^subscription refused: keys.auth/) });
    expect(ps.requestCount()).toBe(before);
    expect(sender.stats().failed).toBe(5);
  });
});

describe("push client limits", () => {
  it("a service that accepts TCP and never answers fails within the time budget", async () => {
    const silent = await countingListener();
    try {
      const transport: PushTransport = { ...ps.transport, timeoutMs: 500 };
      const sender = createPushSender({ keys, subject: SUBJECT, transport });
      const sub = ps.subscribe();
      const t0 = performance.now();
      const r = await sender.send({ ...sub, endpoint: `https://push.test:${silent.port}/push/x` }, ringing, { ttlSeconds: 30 });
      const elapsed = performance.now() - t0;
      expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/did not answer within 0.5 s/) });
      expect(silent.connections()).toBe(1);
      // Generous: the budget is 0.5 s; a busy machine may add a lot, but not ten times the default.
      expect(elapsed).toBeLessThan(10_000);
    } finally {
      await silent.close();
    }
  });

  it("the name is resolved once, and the connection goes to the address that was checked", async () => {
    // push.test exists only in the stand-in's resolver: had the TLS connection looked the name
    // up again (the DNS-rebinding gap), it could not have reached the stand-in at all.
    let lookups = 0;
    const transport: PushTransport = { ...ps.transport, resolve: async (h) => (lookups++, ps.transport.resolve!(h)) };
    const sender = createPushSender({ keys, subject: SUBJECT, transport });
    expect(await sender.send(ps.subscribe(), ringing, { ttlSeconds: 30 })).toEqual({ ok: true, status: 201 });
    expect(lookups).toBe(1);
  });

  /** A TLS server for push.test that writes `answer` and then stalls (never ends). */
  async function stallingService(answer: (socket: TLSSocket) => void) {
    const ca = await createCA({ commonName: "voicesrv test CA (stalling push service)", days: 2 });
    const leaf = await issueServerCertificate(ca, { hostnames: ["push.test"], ips: [], days: 2 });
    const sockets = new Set<TLSSocket>();
    const server = createTlsServer({ cert: leaf.certPem, key: leaf.keyPem }, (s) => {
      sockets.add(s);
      s.on("error", () => {});
      s.once("data", () => answer(s));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const transport: PushTransport = { ...ps.transport, ca: ca.certPem, timeoutMs: 8000 };
    return {
      endpoint: `https://push.test:${port}/push/x`,
      transport,
      close: () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => r());
        }),
    };
  }

  it("an error body is read only up to 64 KiB: a 10 MiB answer that stalls still ends at once", async () => {
    const svc = await stallingService((s) => {
      s.write("HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 10485760\r\n\r\n");
      s.write("x".repeat(100 * 1024));
    });
    try {
      const sender = createPushSender({ keys, subject: SUBJECT, transport: svc.transport });
      const sub = ps.subscribe();
      const t0 = performance.now();
      const r = await sender.send({ ...sub, endpoint: svc.endpoint }, ringing, { ttlSeconds: 30 });
      expect(r).toMatchObject({ ok: false, status: 500, reason: "500 push service error: …" });
      // Well inside the 8 s budget: the client stopped at the cap instead of waiting for the rest.
      expect(performance.now() - t0).toBeLessThan(6000);
    } finally {
      await svc.close();
    }
  });

  it("response headers beyond 64 KiB are a failure", async () => {
    const svc = await stallingService((s) => {
      s.write("HTTP/1.1 201 Created\r\n");
      for (let i = 0; i < 2000; i++) s.write(`X-Filler-${i}: ${"y".repeat(60)}\r\n`);
    });
    try {
      const sender = createPushSender({ keys, subject: SUBJECT, transport: svc.transport });
      const r = await sender.send({ ...ps.subscribe(), endpoint: svc.endpoint }, ringing, { ttlSeconds: 30 });
      expect(r).toEqual({ ok: false, reason: "response headers exceed 65536 bytes" });
    } finally {
      await svc.close();
    }
  });

  it("a certificate from another CA is refused", async () => {
    const svc = await stallingService((s) => s.end("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"));
    try {
      const sender = createPushSender({ keys, subject: SUBJECT, transport: { ...svc.transport, ca: ps.caPem } });
      const r = await sender.send({ ...ps.subscribe(), endpoint: svc.endpoint }, ringing, { ttlSeconds: 30 });
      expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/^cannot connect to push.test: /) });
      // The same service with its own CA trusted answers 201: the refusal was the certificate.
      expect(await createPushSender({ keys, subject: SUBJECT, transport: svc.transport }).send({ ...ps.subscribe(), endpoint: svc.endpoint }, ringing, { ttlSeconds: 30 })).toEqual({ ok: true, status: 201 });
    } finally {
      await svc.close();
    }
  });
});
