import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { TestClient } from "../helpers/ws-client.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ limits: { ringTimeoutMs: 400, resumeGraceMs: 0 } });
});
afterAll(async () => {
  await server.close();
});

let n = 0;
async function pair() {
  const group = `calls${n++}`;
  const a = await TestClient.open(server.wsUrl(group));
  const b = await TestClient.open(server.wsUrl(group));
  return { a, b, group };
}

async function ring(a: TestClient, b: TestClient, codecs?: string[]) {
  a.send(codecs ? { t: "call", to: b.id, codecs } : { t: "call", to: b.id });
  const out = await a.next("outgoing");
  const inc = await b.next("incoming");
  expect(out.callId).toBe(inc.callId);
  expect(out.callId).toMatch(/^[0-9a-f]{32}$/);
  expect(inc.from).toBe(a.id);
  return inc.callId;
}

describe("1:1 call state machine", () => {
  test("call → ringing on both sides → answer → connected with roles and one handle", async () => {
    const { a, b } = await pair();
    const watcher = await TestClient.open(server.wsUrl(`calls${n - 1}`));
    const callId = await ring(a, b, ["opus", "pcmu16"]);
    expect(b.messages.find((m) => m.t === "incoming")).toMatchObject({ codecs: ["opus", "pcmu16"] });
    await watcher.next("status", (m) => m.id === a.id && m.status === "ringing");
    await watcher.next("status", (m) => m.id === b.id && m.status === "ringing");
    b.send({ t: "answer", callId, codecs: ["pcmu16"] });
    const ca = await a.next("connected");
    const cb = await b.next("connected");
    expect(ca).toMatchObject({ callId, role: "initiator", peer: b.id, peerCodecs: ["pcmu16"] });
    expect(cb).toMatchObject({ callId, role: "responder", peer: a.id, peerCodecs: ["opus", "pcmu16"] });
    expect(ca.callHandle).toBe(cb.callHandle);
    expect(ca.callHandle).toBeGreaterThan(0);
    expect(ca.callHandle).toBeLessThanOrEqual(0xffffffff);
    await watcher.next("status", (m) => m.id === a.id && m.status === "in-call");
    await watcher.next("status", (m) => m.id === b.id && m.status === "in-call");
    expect(server.hub.counts().calls).toBe(1);

    b.send({ t: "hangup", callId });
    expect(await a.next("ended")).toMatchObject({ callId, reason: "hangup", by: b.id });
    expect(await b.next("ended")).toMatchObject({ callId, reason: "hangup", by: b.id });
    await watcher.next("status", (m) => m.id === a.id && m.status === "available");
    expect(server.hub.counts().calls).toBe(0);
    for (const c of [a, b, watcher]) c.close();
  });

  test("decline", async () => {
    const { a, b } = await pair();
    const callId = await ring(a, b);
    b.send({ t: "reject", callId });
    expect(await a.next("ended")).toMatchObject({ callId, reason: "declined" });
    expect(await b.next("ended")).toMatchObject({ callId, reason: "declined" });
    a.close();
    b.close();
  });

  test("cancel by the caller", async () => {
    const { a, b } = await pair();
    const callId = await ring(a, b);
    a.send({ t: "cancel", callId });
    expect(await b.next("ended")).toMatchObject({ callId, reason: "cancelled" });
    expect(await a.next("ended")).toMatchObject({ callId, reason: "cancelled" });
    a.close();
    b.close();
  });

  test("no answer after the ring timeout", async () => {
    const { a, b } = await pair();
    const callId = await ring(a, b);
    const t0 = performance.now();
    expect(await a.next("ended", () => true, 3000)).toMatchObject({ callId, reason: "no-answer" });
    expect(await b.next("ended")).toMatchObject({ callId, reason: "no-answer" });
    expect(performance.now() - t0).toBeGreaterThan(300);
    a.close();
    b.close();
  });

  test("busy: a member is in at most one call", async () => {
    const { a, b, group } = await pair();
    const c = await TestClient.open(server.wsUrl(group));
    const callId = await ring(a, b);
    c.send({ t: "call", to: b.id });
    const out = await c.next("outgoing");
    expect(await c.next("ended")).toMatchObject({ callId: out.callId, reason: "busy" });
    // The caller cannot start a second call either.
    a.send({ t: "call", to: c.id });
    expect(await a.next("error")).toMatchObject({ code: "already-in-call", ref: "call" });
    expect(c.messages.some((m) => m.t === "incoming")).toBe(false);
    b.send({ t: "reject", callId });
    await a.next("ended");
    for (const x of [a, b, c]) x.close();
  });

  test("peer gone while ringing and while connected", async () => {
    const { a, b } = await pair();
    const callId = await ring(a, b);
    b.close();
    expect(await a.next("ended")).toMatchObject({ callId, reason: "peer-gone" });

    const { a: c, b: d } = await pair();
    const id2 = await ring(c, d);
    d.send({ t: "answer", callId: id2 });
    await c.next("connected");
    c.close();
    expect(await d.next("ended")).toMatchObject({ callId: id2, reason: "peer-gone" });
    a.close();
    d.close();
  });

  test("illegal moves get clear errors and change nothing", async () => {
    const { a, b, group } = await pair();
    a.send({ t: "call", to: a.id });
    expect(await a.next("error")).toMatchObject({ code: "self-call" });
    const callId = await ring(a, b);
    a.send({ t: "answer", callId });
    expect(await a.next("error")).toMatchObject({ code: "not-allowed", ref: "answer" });
    b.send({ t: "cancel", callId });
    expect(await b.next("error")).toMatchObject({ code: "not-allowed", ref: "cancel" });
    a.send({ t: "kx", callId, body: "early" });
    expect(await a.next("error")).toMatchObject({ code: "not-allowed", ref: "kx" });
    const outsider = await TestClient.open(server.wsUrl(group));
    outsider.send({ t: "hangup", callId });
    expect(await outsider.next("error")).toMatchObject({ code: "no-such-call" });
    outsider.send({ t: "answer", callId });
    expect(await outsider.next("error", (m) => m.ref === "answer")).toMatchObject({ code: "no-such-call" });
    b.send({ t: "answer", callId });
    await a.next("connected");
    expect(b.messages.some((m) => m.t === "ended")).toBe(false);
    for (const x of [a, b, outsider]) x.close();
  });

  test("key-exchange messages are relayed opaquely, only between the two members", async () => {
    const { a, b, group } = await pair();
    const eve = await TestClient.open(server.wsUrl(group));
    const callId = await ring(a, b);
    b.send({ t: "answer", callId });
    await a.next("connected");
    const body = JSON.stringify({ k: "commit", h: "x".repeat(43), any: ["shape", 1] });
    a.send({ t: "kx", callId, body });
    expect(await b.next("kx")).toEqual({ t: "kx", callId, body });
    b.send({ t: "kx", callId, body: "reply" });
    expect(await a.next("kx")).toEqual({ t: "kx", callId, body: "reply" });
    eve.send({ t: "kx", callId, body: "injected" });
    expect(await eve.next("error")).toMatchObject({ code: "no-such-call" });
    await Bun.sleep(50);
    expect(a.messages.filter((m) => m.t === "kx")).toHaveLength(1);
    expect(JSON.stringify(eve.messages)).not.toContain("commit");
    for (const x of [a, b, eve]) x.close();
  });
});
