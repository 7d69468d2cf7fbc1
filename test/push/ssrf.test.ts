// Attacks on the push client through a subscription's endpoint, sent for real: every one is
// refused, and a loopback listener on the port each endpoint names proves no TCP connection was
// made. Every address these tests name or resolve to is a loopback address, so even a broken
// guard would only ever reach this machine; private, link-local and other ranges are checked
// without sending (endpoint-guard.test.ts).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { p256 } from "@noble/curves/p256";
import { createPushSender, probePushReachability, type PushTransport, type SendResult } from "../../server/push/index.ts";
import { importVapidKeys } from "../../server/push/vapid-keys.ts";
import { countingListener, type CountingListener } from "../helpers/counting-listener.ts";
import { freePort } from "../helpers/pebble.ts";
import { startPushService, type PushServiceStandIn } from "../helpers/push-service.ts";

let ps: PushServiceStandIn;
let listener: CountingListener;
let keys: Awaited<ReturnType<typeof importVapidKeys>>;

beforeAll(async () => {
  ps = await startPushService();
  listener = await countingListener({ hangUp: true });
  const d = p256.utils.randomPrivateKey();
  keys = await importVapidKeys(p256.getPublicKey(d, false), d);
});

afterAll(async () => {
  await ps?.stop();
  await listener?.close();
});

let connectionsBefore = 0;
beforeEach(() => {
  connectionsBefore = listener.connections();
});
afterEach(() => {
  expect(listener.connections() - connectionsBefore).toBe(0);
});

const resolvingTo =
  (...addresses: string[]) =>
  async (_: string) =>
    addresses;

async function attempt(endpoint: string, transport: PushTransport): Promise<SendResult> {
  const sub = ps.subscribe();
  const sender = createPushSender({ keys, subject: "mailto:ops@example.org", transport });
  const r = await sender.send({ ...sub, endpoint }, { hello: 1 }, { ttlSeconds: 30 });
  expect(sender.stats()).toMatchObject({ sent: 0, failed: 1 });
  return r;
}

const reason = (r: SendResult) => (r.ok ? "" : "reason" in r ? r.reason : "");

describe("endpoints the guard refuses before any lookup", () => {
  it.each([
    ["an IPv4 loopback literal", () => `https://127.0.0.1:${listener.port}/push/x`, /IP address/],
    ["an IPv6 loopback literal", () => `https://[::1]:${listener.port}/push/x`, /IP address/],
    ["an IPv4 literal in hex", () => `https://0x7f.0.0.1:${listener.port}/push/x`, /IP address/],
    ["plain http", () => `http://push.test:${listener.port}/push/x`, /https/],
    ["a host not on the allow-list", () => `https://evil.example:${listener.port}/push/x`, /not a known push service/],
    ["a look-alike of an allowed host", () => `https://fcm.googleapis.com.evil.example:${listener.port}/x`, /not a known push service/],
    ["user info", () => `https://user:pw@push.test:${listener.port}/x`, /user name/],
  ])("%s", async (_, endpoint, why) => {
    // Any port and a resolver answering loopback: only the rule under test stands between the
    // endpoint and the listener.
    const r = await attempt(endpoint(), { ...ps.transport, allowAnyPortForTests: true, resolve: resolvingTo("127.0.0.1") });
    expect(reason(r)).toMatch(why);
  });

  it("a non-default port without the test permission", async () => {
    const r = await attempt(`https://push.test:${listener.port}/x`, { ...ps.transport, allowAnyPortForTests: false });
    expect(reason(r)).toMatch(/port 443/);
  });
});

describe("names that resolve to addresses the client must not reach", () => {
  it("localhost through the system resolver, even with both test permissions (not a .test name)", async () => {
    const r = await attempt(`https://localhost:${listener.port}/push/x`, { hosts: ["localhost"], allowAnyPortForTests: true, allowLoopbackForTests: true });
    expect(reason(r)).toMatch(/localhost resolves to a loopback/);
  });

  it("an allow-listed test host resolving to 127.0.0.1 without the loopback permission", async () => {
    const r = await attempt(`https://push.test:${listener.port}/push/x`, { ...ps.transport, allowLoopbackForTests: false, resolve: resolvingTo("127.0.0.1") });
    expect(reason(r)).toBe("push.test resolves to a loopback (127.0.0.0/8) address");
  });

  it("one refused address among allowed ones refuses the name", async () => {
    // With the loopback permission 127.0.0.1 is allowed and an IPv4-mapped loopback is not: a
    // guard that checked only the first address would connect to the listener.
    const r = await attempt(`https://push.test:${listener.port}/push/x`, { ...ps.transport, resolve: resolvingTo("127.0.0.1", "::ffff:127.0.0.1") });
    expect(reason(r)).toMatch(/IPv4-mapped loopback/);
  });

  it.each([
    ["::1", /loopback/],
    ["127.0.0.2", /loopback/],
    ["::ffff:127.0.0.1", /IPv4-mapped loopback/],
  ])("a name resolving to %s without the loopback permission", async (address, why) => {
    const r = await attempt(`https://push.test:${listener.port}/push/x`, { ...ps.transport, allowLoopbackForTests: false, resolve: resolvingTo(address) });
    expect(reason(r)).toMatch(why);
  });

  it("a failing lookup is a failure, not a crash", async () => {
    const r = await attempt(`https://push.test:${listener.port}/push/x`, {
      ...ps.transport,
      resolve: async () => {
        throw Object.assign(new Error("nope"), { code: "ENOTFOUND" });
      },
    });
    expect(reason(r)).toBe("DNS lookup of push.test failed (ENOTFOUND)");
  });
});

describe("redirects", () => {
  // Locations on loopback only: a client that did follow would reach the listener, not a LAN.
  it.each([
    ["to an address literal", () => `https://127.0.0.1:${listener.port}/push/x`],
    ["to an allowed name", () => `https://push.test:${listener.port}/push/x`],
  ])("a 302 %s is a failure and is not followed", async (_, location) => {
    const sub = ps.subscribe();
    ps.answer(sub, { redirect: location() });
    const sender = createPushSender({ keys, subject: "mailto:ops@example.org", transport: ps.transport });
    const before = ps.requestCount();
    const r = await sender.send(sub, { hello: 1 }, { ttlSeconds: 30 });
    expect(r).toEqual({ ok: false, status: 302, reason: "302 redirect refused" });
    expect(ps.requestCount()).toBe(before + 1);
    expect(sender.stats()).toMatchObject({ failed: 1, sent: 0 });
  });
});

describe("probePushReachability", () => {
  it("reports no route when the push services' port is closed", async () => {
    const closed = await freePort();
    const r = await probePushReachability({ targets: [{ host: "push.test", port: closed }], transport: ps.transport, timeoutMs: 3000 });
    expect(r.ok).toBe(false);
    expect(r.summary).toMatch(/^no route to the push services: push.test: TCP to 127.0.0.1 port \d+ failed \(ECONNREFUSED\)/);
  });

  it("reaches the stand-in, and says which of several failed", async () => {
    const r = await probePushReachability({ targets: [{ host: "push.test", port: ps.port }, { host: "gone.test", port: ps.port }], transport: ps.transport, timeoutMs: 3000 });
    expect(r.reachable).toEqual(["push.test"]);
    expect(r.unreachable).toEqual([{ host: "gone.test", reason: "DNS lookup of gone.test failed (ENOTFOUND)" }]);
    expect(r.summary).toMatch(/^some push services are unreachable: gone.test/);
  });

  it("does not connect to a name that resolves to loopback without the permission", async () => {
    const r = await probePushReachability({ targets: [{ host: "localhost", port: listener.port }], transport: {}, timeoutMs: 3000 });
    expect(r.unreachable).toEqual([{ host: "localhost", reason: expect.stringMatching(/resolves to a loopback/) }]);
  });
});
