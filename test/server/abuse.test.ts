import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_LIMITS } from "../../protocol/limits.ts";
import { encodeMediaHeader } from "../../protocol/media-header.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { MEMBER_ID_RE } from "../../protocol/member-id.ts";
import { TestClient } from "../helpers/ws-client.ts";
import { connectedCall } from "../helpers/calls.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ limits: { resumeGraceMs: 0, connectionsPerIp: 40 } });
});
afterAll(async () => {
  await server.close();
});

let n = 0;
/** An unrelated call that sends a frame every 20 ms; returns how many arrived. */
function keepTalking(a: TestClient, handle: number) {
  let seq = 0;
  const timer = setInterval(() => {
    const f = new Uint8Array(100);
    f.set(encodeMediaHeader({ callHandle: handle, epoch: 0, seq: seq++ }));
    a.ws.send(f);
  }, 20);
  return { stop: () => clearInterval(timer), sent: () => seq };
}

describe("malformed and hostile clients", () => {
  test("malformed messages get error replies with stable codes and the connection keeps working", async () => {
    const c = await TestClient.open(server.wsUrl(`bad${n++}`));
    const cases: [unknown, string][] = [
      ["{oops", "bad-json"],
      ['{"t":"teleport"}', "unknown-type"],
      [{ t: "call", to: "nope" }, "bad-message"],
      [{ t: "hello", v: 1 }, "upgrade-required"],
      [await c.device.hello(c.n, `bad${n - 1}`), "already-hello"],
      ["x".repeat(9000), "too-large"],
      [{ t: "hangup", callId: "f".repeat(32) }, "no-such-call"],
    ];
    for (const [msg, code] of cases) {
      c.send(msg);
      const e = await c.next("error");
      expect(e.code).toBe(code);
      expect(e.message.length).toBeGreaterThan(5);
    }
    c.ws.send(new Uint8Array(3000));
    expect((await c.next("error")).code).toBe("too-large");
    c.send({ t: "ping" });
    await c.next("pong");
    expect(c.closed).toBeNull();
    c.close();
  });

  test("messages before hello are refused; a binary that is no media frame is refused", async () => {
    const c = await TestClient.open(server.wsUrl(`pre${n++}`), { hello: false });
    c.send({ t: "call", to: "ABCDEF" });
    expect(await c.next("error")).toMatchObject({ code: "hello-required", ref: "call" });
    await c.sendHello();
    await c.next("welcome");
    c.ws.send(new Uint8Array([2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9]));
    expect((await c.next("error")).code).toBe("bad-frame");
    c.close();
  });

  test("an oversized message beyond the hard cap closes only that connection", async () => {
    const group = `big${n++}`;
    const { a, b, handle } = await connectedCall(server, group);
    const talk = keepTalking(a, handle);
    const c = await TestClient.open(server.wsUrl(group));
    c.ws.send(new Uint8Array(100 * 1024));
    const closed = await c.waitClosed();
    expect(closed.code).toBe(1009);
    await Bun.sleep(200);
    talk.stop();
    await Bun.sleep(100);
    expect(b.frames.length).toBe(talk.sent());
    expect(a.closed).toBeNull();
    a.close();
    b.close();
  });

  test("a control-message flood is rate limited, then closed, while an unrelated call keeps flowing", async () => {
    const group = `flood${n++}`;
    const { a, b, handle } = await connectedCall(server, group);
    const talk = keepTalking(a, handle);
    const f = await TestClient.open(server.wsUrl(group));
    for (let i = 0; i < 1000 && !f.closed; i++) f.send({ t: "ping" });
    const closed = await f.waitClosed();
    expect(closed.code).toBe(1008);
    expect(f.messages.some((m) => m.t === "error" && m.code === "rate-limited")).toBe(true);
    // Error replies to a flood are throttled: far fewer errors than refused messages.
    expect(f.messages.filter((m) => m.t === "error").length).toBeLessThan(5);
    await Bun.sleep(300);
    talk.stop();
    await Bun.sleep(100);
    expect(talk.sent()).toBeGreaterThan(10);
    expect(b.frames.length).toBe(talk.sent());
    a.close();
    b.close();
  });

  test("a media flood is dropped and counted, then closed, while an unrelated call keeps flowing", async () => {
    const group = `mflood${n++}`;
    const good = await connectedCall(server, group);
    const bad = await connectedCall(server, group);
    const talk = keepTalking(good.a, good.handle);
    const before = server.hub.media.droppedRate;
    const f = new Uint8Array(200);
    f.set(encodeMediaHeader({ callHandle: bad.handle, epoch: 0, seq: 0 }));
    for (let i = 0; i < 2000; i++) bad.a.ws.send(f);
    const closed = await bad.a.waitClosed();
    expect(closed.code).toBe(1008);
    expect(server.hub.media.droppedRate - before).toBeGreaterThan(600);
    // At most the burst allowance (a stall's backlog) got through before the limit cut in.
    expect(bad.b.frames.length).toBeLessThanOrEqual(DEFAULT_LIMITS.mediaBurstFrames + 10);
    await Bun.sleep(300);
    talk.stop();
    await Bun.sleep(100);
    expect(good.b.frames.length).toBe(talk.sent());
    for (const c of [good.a, good.b, bad.b]) c.close();
  });
});

describe("limits at the door", () => {
  test("connections per IP", async () => {
    const s = await startTestServer({ limits: { connectionsPerIp: 3 } });
    const cs = await Promise.all([1, 2, 3].map(() => TestClient.open(s.wsUrl("ip"))));
    await expect(TestClient.open(s.wsUrl("ip"))).rejects.toThrow();
    const res = await fetch(`${s.url}/ws/ip`, { headers: { Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13" }, tls: { rejectUnauthorized: false } } as any);
    expect(res.status).toBe(429);
    cs[0]!.close();
    await cs[0]!.waitClosed();
    await Bun.sleep(50);
    const again = await TestClient.open(s.wsUrl("ip"));
    expect(again.id).toMatch(MEMBER_ID_RE);
    for (const c of [...cs, again]) c.close();
    await s.close();
  });

  test("members per group", async () => {
    const s = await startTestServer({ limits: { membersPerGroup: 2 } });
    const a = await TestClient.open(s.wsUrl("full"));
    const b = await TestClient.open(s.wsUrl("full"));
    const c = await TestClient.open(s.wsUrl("full"), { hello: false });
    await c.sendHello();
    expect((await c.next("error")).code).toBe("group-full");
    expect((await c.waitClosed()).code).toBe(4003);
    // The roster counts people, not connections: a member who went offline still holds a place,
    // and comes back in.
    a.close();
    await Bun.sleep(50);
    const late = await TestClient.open(s.wsUrl("full"), { hello: false });
    await late.sendHello();
    expect((await late.next("error")).code).toBe("group-full");
    const aBack = await TestClient.open(s.wsUrl("full"), { device: a.device });
    expect(aBack.id).toBe(a.id);
    aBack.close();
    const other = await TestClient.open(s.wsUrl("other"));
    expect(other.id).toBeTruthy();
    for (const x of [a, b, other]) x.close();
    await s.close();
  });

  test("WebSocket upgrades from a foreign Origin are refused", async () => {
    const host = new URL(server.url).host;
    await expect(TestClient.open(server.wsUrl("origin"), { headers: { Origin: "https://evil.example" } })).rejects.toThrow();
    const res = await fetch(`${server.url}/ws/origin`, {
      headers: { Origin: "https://evil.example", Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13" },
      tls: { rejectUnauthorized: false },
    } as any);
    expect(res.status).toBe(403);
    const ok = await TestClient.open(server.wsUrl("origin"), { headers: { Origin: `https://${host}` } });
    expect(ok.id).toBeTruthy();
    ok.close();
  });

  test("an invalid group in the WebSocket path is refused", async () => {
    const res = await fetch(`${server.url}/ws/Not..Valid`, { tls: { rejectUnauthorized: false } } as any);
    expect(res.status).toBe(404);
  });
});
