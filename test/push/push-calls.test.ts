// Ringing a closed app (issue #9) end to end on the server side: a real server with push set
// up, real WSS clients, and the push-service stand-in over real HTTPS on 127.0.0.1 that checks
// every VAPID token and decrypts every payload with the subscription's private key.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { base64urlEncode } from "../../protocol/base64url.ts";
import { declineSignedBytes, signWithDevice } from "../../protocol/identity-v2.ts";
import { startPushService, type PushServiceStandIn, type StandInSubscription } from "../helpers/push-service.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { TestDevice } from "../helpers/test-device.ts";
import { TestClient } from "../helpers/ws-client.ts";

let ps: PushServiceStandIn;
const servers: TestServer[] = [];
const clients: TestClient[] = [];

beforeAll(async () => {
  ps = await startPushService();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await ps?.stop();
});

async function pushServer(limits: Record<string, number> = {}): Promise<TestServer> {
  const s = await startTestServer({ pushSubject: "mailto:ops@example.org", pushHosts: ["push.test"], limits }, undefined, { pushTransport: ps.transport });
  servers.push(s);
  return s;
}

async function open(s: TestServer, group: string, opts: { device?: TestDevice; name?: string } = {}): Promise<TestClient> {
  const c = await TestClient.open(s.wsUrl(group), opts);
  clients.push(c);
  return c;
}

/** Joins, subscribes to the stand-in and closes the app: a member whose phone can be rung. */
async function closedApp(s: TestServer, group: string, name = "Grandma"): Promise<{ device: TestDevice; sub: StandInSubscription; id: string }> {
  const c = await open(s, group, { name });
  const welcome = c.messages.find((m) => m.t === "welcome") as Extract<(typeof c.messages)[number], { t: "welcome" }>;
  const sub = ps.subscribe({ applicationServerKey: welcome.push!.key });
  c.send({ t: "push-subscribe", sub });
  await c.next("push-subscribed");
  c.close(1000);
  await c.waitClosed();
  return { device: c.device, sub, id: c.id };
}

describe("push subscriptions", () => {
  test("the welcome carries the VAPID key; a push-service endpoint is accepted and stored", async () => {
    const s = await pushServer();
    const c = await open(s, "fam");
    const welcome = c.messages.find((m) => m.t === "welcome");
    expect(welcome).toMatchObject({ push: { key: expect.stringMatching(/^[A-Za-z0-9_-]{87}$/) } });
    c.send({ t: "push-subscribe", sub: ps.subscribe() });
    await c.next("push-subscribed");
    expect(s.roster.pushSubscriptions("fam", c.id)).toHaveLength(1);
    c.send({ t: "push-unsubscribe" });
    c.send({ t: "ping" });
    await c.next("pong");
    expect(s.roster.pushSubscriptions("fam", c.id)).toHaveLength(0);
  });

  test("endpoints off the allow-list, on addresses or over http are refused and nothing is stored", async () => {
    const s = await pushServer();
    const c = await open(s, "fam");
    const keys = ps.subscribe().keys;
    const before = ps.requestCount();
    for (const endpoint of [
      "https://127.0.0.1/push/x",
      "https://10.0.0.1/push/x",
      "https://[::1]/push/x",
      "http://fcm.googleapis.com/fcm/send/x",
      "https://evil.example.org/push/x",
      "https://localhost/push/x",
      "not a url",
    ]) {
      c.send({ t: "push-subscribe", sub: { endpoint, keys } });
      expect(await c.next("error")).toMatchObject({ code: "bad-push-endpoint", ref: "push-subscribe" });
    }
    c.send({ t: "push-subscribe", sub: { endpoint: ps.subscribe().endpoint, keys: { p256dh: keys.p256dh, auth: "short" } } });
    expect(await c.next("error")).toMatchObject({ code: "bad-message" });
    expect(s.roster.pushSubscriptions("fam", c.id)).toHaveLength(0);
    expect(ps.requestCount()).toBe(before);
  });

  test("a server without a push subject does not offer push and says why on subscribe", async () => {
    const s = await startTestServer({ pushHosts: ["push.test"] });
    servers.push(s);
    const c = await open(s, "fam");
    expect(c.messages.find((m) => m.t === "welcome")).not.toHaveProperty("push");
    c.send({ t: "push-subscribe", sub: ps.subscribe() });
    expect(await c.next("error")).toMatchObject({ code: "push-unavailable" });
  });
});

describe("calling a closed app", () => {
  test("rings it by an encrypted push; its hello picks up the call, which connects", async () => {
    const s = await pushServer();
    const b = await closedApp(s, "fam");
    const a = await open(s, "fam", { name: "Sam" });
    const grandma = (a.messages.find((m) => m.t === "welcome") as { members: { id: string; online: boolean; ringable?: boolean }[] }).members.find((m) => m.id === b.id);
    expect(grandma).toMatchObject({ online: false, ringable: true });
    a.send({ t: "call", to: b.id, codecs: ["opus"] });
    const out = await a.next("outgoing");
    expect(out).toMatchObject({ to: b.id, pushed: true });

    const push = await ps.waitForPush(b.sub);
    expect(push.urgency).toBe("high");
    expect(push.topic).toBe(out.callId);
    expect(Number(push.ttl)).toBe(45);
    expect(push.contentEncoding).toBe("aes128gcm");
    expect(push.claims.sub).toBe("mailto:ops@example.org");
    const p = push.payload as Record<string, unknown>;
    // Nothing beyond what the notification needs (docs/PUSH.md).
    expect(Object.keys(p).sort()).toEqual(["callId", "exp", "from", "group", "kind", "name", "v"]);
    expect(p).toMatchObject({ v: 1, kind: "ring", callId: out.callId, group: "fam", name: "Sam", from: a.id });
    expect(p.exp as number).toBeGreaterThan(Date.now());

    const back = await open(s, "fam", { device: b.device, name: "Grandma" });
    expect(await back.next("incoming")).toMatchObject({ callId: out.callId, from: a.id, codecs: ["opus"] });
    back.send({ t: "answer", callId: out.callId, codecs: ["opus"] });
    expect(await a.next("connected")).toMatchObject({ callId: out.callId, peer: b.id });
    expect(await back.next("connected")).toMatchObject({ callId: out.callId, peer: a.id });
    // Answered: no missed-call push follows.
    await Bun.sleep(300);
    expect(ps.received(b.sub)).toHaveLength(1);
  });

  test("cancelled while ringing: the missed-call push carries the same Topic, so it replaces the ring", async () => {
    const s = await pushServer();
    const b = await closedApp(s, "fam");
    const a = await open(s, "fam", { name: "Sam" });
    a.send({ t: "call", to: b.id });
    const out = await a.next("outgoing");
    const ring = await ps.waitForPush(b.sub);
    a.send({ t: "cancel", callId: out.callId });
    expect(await a.next("ended")).toMatchObject({ reason: "cancelled" });
    const missed = await ps.waitForPush(b.sub, { after: 1 });
    expect(missed.topic).toBe(ring.topic);
    expect(missed.payload).toMatchObject({ kind: "missed", callId: out.callId, name: "Sam", from: a.id });
    // The app that opens afterwards finds no call waiting.
    const back = await open(s, "fam", { device: b.device });
    back.send({ t: "ping" });
    await back.next("pong");
    expect(back.messages.some((m) => m.t === "incoming")).toBe(false);
  });

  test("unanswered for pushRingTimeoutMs: the caller hears no-answer and the phone shows a missed call", async () => {
    const s = await pushServer({ pushRingTimeoutMs: 1500 });
    const b = await closedApp(s, "fam");
    const a = await open(s, "fam", { name: "Sam" });
    a.send({ t: "call", to: b.id });
    const out = await a.next("outgoing");
    expect(Number((await ps.waitForPush(b.sub)).ttl)).toBe(2);
    expect(await a.next("ended", undefined, 5000)).toMatchObject({ callId: out.callId, reason: "no-answer" });
    expect((await ps.waitForPush(b.sub, { after: 1 })).payload).toMatchObject({ kind: "missed" });
  });

  test("Decline on the notification: a request signed by the callee's device ends it as declined; forgeries change nothing", async () => {
    const s = await pushServer();
    const b = await closedApp(s, "fam");
    const a = await open(s, "fam", { name: "Sam" });
    a.send({ t: "call", to: b.id });
    const out = await a.next("outgoing");
    await ps.waitForPush(b.sub);
    const post = (body: unknown) =>
      fetch(`${s.url}/api/push/decline`, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" }, tls: { rejectUnauthorized: false } } as RequestInit);
    const signed = async (device: TestDevice, callId: string, group: string) => ({
      group,
      callId,
      d: device.d,
      sig: base64urlEncode(await signWithDevice(device.keys.privateKey, declineSignedBytes(callId, group))),
    });
    const stranger = await TestDevice.create();
    // Someone else's key, a signature for another group, another device's key with b's signature, garbage.
    expect((await post(await signed(stranger, out.callId, "fam"))).status).toBe(404);
    expect((await post(await signed(b.device, out.callId, "other"))).status).toBe(404);
    expect((await post({ ...(await signed(b.device, out.callId, "fam")), d: stranger.d })).status).toBe(404);
    expect((await post({ group: "fam", callId: out.callId })).status).toBe(400);
    expect((await fetch(`${s.url}/api/push/decline`, { method: "POST", body: "{", tls: { rejectUnauthorized: false } } as RequestInit)).status).toBe(400);
    // A body past 1 KiB is refused without being read, also when chunked (no Content-Length).
    const big = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 64; i++) c.enqueue(new Uint8Array(32 * 1024).fill(0x20));
        c.close();
      },
    });
    const chunked = await fetch(`${s.url}/api/push/decline`, { method: "POST", body: big, tls: { rejectUnauthorized: false } } as RequestInit).then((r) => r.status, () => "refused");
    expect([413, "refused"]).toContain(chunked);
    expect((await post({ ...(await signed(b.device, out.callId, "fam")), pad: "x".repeat(2000) })).status).toBe(413);
    expect(a.messages.some((m) => m.t === "ended")).toBe(false);

    expect((await post(await signed(b.device, out.callId, "fam"))).status).toBe(204);
    expect(await a.next("ended")).toMatchObject({ callId: out.callId, reason: "declined", by: b.id });
    // Replayed: the call is gone.
    expect((await post(await signed(b.device, out.callId, "fam"))).status).toBe(404);
    await Bun.sleep(300);
    expect(ps.received(b.sub)).toHaveLength(1);
  });

  test("a push service answering 410 loses the subscription; a ring no phone can receive ends as unavailable", async () => {
    const s = await pushServer();
    const b = await closedApp(s, "fam");
    ps.answer(b.sub, 410);
    const a = await open(s, "fam", { name: "Sam" });
    a.send({ t: "call", to: b.id });
    await a.next("outgoing");
    expect(await a.next("ended")).toMatchObject({ reason: "unavailable" });
    expect(s.roster.pushSubscriptions("fam", b.id)).toHaveLength(0);
    // No subscription left: the next call does not even try.
    const before = ps.requestCount();
    a.send({ t: "call", to: b.id });
    await a.next("outgoing");
    expect(await a.next("ended")).toMatchObject({ reason: "unavailable" });
    expect(ps.requestCount()).toBe(before);
  });

  test("a callee whose app goes to the background while ringing is rung by push and gets the call back", async () => {
    const s = await pushServer();
    const b = await closedApp(s, "fam");
    const bOnline = await open(s, "fam", { device: b.device });
    const a = await open(s, "fam", { name: "Sam" });
    a.send({ t: "call", to: b.id });
    const out = await a.next("outgoing", (m) => !m.pushed);
    await bOnline.next("incoming");
    // 4100: the app's "page hidden, back soon".
    bOnline.close(4100);
    expect(await a.next("outgoing", (m) => m.pushed === true)).toMatchObject({ callId: out.callId });
    expect((await ps.waitForPush(b.sub)).payload).toMatchObject({ kind: "ring", callId: out.callId });
    const back = await open(s, "fam", { device: b.device });
    expect(await back.next("incoming")).toMatchObject({ callId: out.callId });
    back.send({ t: "answer", callId: out.callId });
    expect(await a.next("connected")).toMatchObject({ callId: out.callId });
  });

  test("a phone already being rung is busy for a second caller; the first call is not lost", async () => {
    const s = await pushServer();
    const b = await closedApp(s, "fam");
    const sam = await open(s, "fam", { name: "Sam" });
    const kim = await open(s, "fam", { name: "Kim" });
    sam.send({ t: "call", to: b.id });
    const first = await sam.next("outgoing");
    kim.send({ t: "call", to: b.id });
    await kim.next("outgoing");
    expect(await kim.next("ended")).toMatchObject({ reason: "busy" });
    const back = await open(s, "fam", { device: b.device });
    expect(await back.next("incoming")).toMatchObject({ callId: first.callId, from: sam.id });
    // The caller's app is told the ring moved into the app (and restarts its own timer).
    expect(await sam.next("outgoing", (m) => m.callId === first.callId && !m.pushed)).toBeTruthy();
  });

  test("a callee removed by the operator or leaving while their phone rings: the call ends at once", async () => {
    const s = await pushServer();
    const b = await closedApp(s, "fam");
    const a = await open(s, "fam", { name: "Sam" });
    a.send({ t: "call", to: b.id });
    await a.next("outgoing");
    await ps.waitForPush(b.sub);
    s.roster.removeMember("fam", b.id, true);
    s.hub.rosterChanged();
    expect(await a.next("ended")).toMatchObject({ reason: "unavailable" });
  });

  test("the missed-call push never overtakes the ring, even when the caller cancels at once", async () => {
    const s = await pushServer({ pushesPerCallerPerMinute: 100, pushesPerCalleePerMinute: 100 });
    const b = await closedApp(s, "fam");
    const a = await open(s, "fam", { name: "Sam" });
    for (let i = 0; i < 8; i++) {
      a.send({ t: "call", to: b.id });
      const out = await a.next("outgoing");
      a.send({ t: "cancel", callId: out.callId });
      await a.next("ended");
    }
    await expect.poll(() => ps.received(b.sub).length, { timeout: 10_000 }).toBe(16);
    const kinds = new Map<string, string[]>();
    for (const p of ps.received(b.sub)) {
      const { callId, kind } = p.payload as { callId: string; kind: string };
      kinds.set(callId, [...(kinds.get(callId) ?? []), kind]);
    }
    expect([...kinds.values()]).toEqual(Array(8).fill(["ring", "missed"]));
  });

  test("a ring no push service took sends no missed-call push after it", async () => {
    const s = await pushServer();
    const b = await closedApp(s, "fam");
    ps.answer(b.sub, 500);
    const before = ps.requestCount();
    const a = await open(s, "fam", { name: "Sam" });
    a.send({ t: "call", to: b.id });
    expect(await a.next("ended")).toMatchObject({ reason: "unavailable" });
    await Bun.sleep(300);
    expect(ps.requestCount() - before).toBe(1);
    expect(s.roster.pushSubscriptions("fam", b.id)).toHaveLength(1);
  });

  test("a subscription whose p256dh is not a P-256 point is refused before it is stored", async () => {
    const s = await pushServer();
    const c = await open(s, "fam");
    const sub = ps.subscribe();
    const bad = Buffer.alloc(65, 7);
    bad[0] = 4;
    c.send({ t: "push-subscribe", sub: { ...sub, keys: { ...sub.keys, p256dh: bad.toString("base64url") } } });
    expect(await c.next("error")).toMatchObject({ code: "bad-push-endpoint" });
    expect(s.roster.pushSubscriptions("fam", c.id)).toHaveLength(0);
  });

  test("push budgets: one caller rings one callee at most pushesPerCalleePerMinute times; others still can", async () => {
    const s = await pushServer({ pushesPerCalleePerMinute: 2 });
    const b = await closedApp(s, "fam");
    const a = await open(s, "fam", { name: "Sam" });
    for (let i = 0; i < 2; i++) {
      a.send({ t: "call", to: b.id });
      const out = await a.next("outgoing");
      expect(out.pushed).toBe(true);
      a.send({ t: "cancel", callId: out.callId });
      await a.next("ended");
    }
    a.send({ t: "call", to: b.id });
    await a.next("outgoing");
    expect(await a.next("ended")).toMatchObject({ reason: "unavailable" });
    // Someone else's budget is untouched: Kim's call still rings Grandma's phone.
    const kim = await open(s, "fam", { name: "Kim" });
    kim.send({ t: "call", to: b.id });
    expect(await kim.next("outgoing")).toMatchObject({ pushed: true });
  });
});
