// Attacks found in review, each replayed against the real server (or, where the trigger needs
// Bun's exact close timing, against the hub with sockets that behave like Bun's).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_LIMITS } from "../../protocol/limits.ts";
import type { ServerMessage } from "../../protocol/messages.ts";
import { ConfigError, resolveConfig } from "../../server/config.ts";
import type { Socket } from "../../server/connection.ts";
import { Hub } from "../../server/hub.ts";
import { silentLogger } from "../../server/logger.ts";
import { SqliteRoster } from "../../server/roster/sqlite-roster.ts";
import { RawWs } from "../helpers/raw-ws.ts";
import { TestDevice } from "../helpers/test-device.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { TestClient } from "../helpers/ws-client.ts";
import { connectedCall } from "../helpers/calls.ts";

const UPGRADE = { Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13" };

describe("hardening", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ limits: { connectionsPerIp: 6, resumeGraceMs: 10_000 } });
  });
  afterAll(async () => {
    await server.close();
  });

  test("connect-hello-drop loops cannot fill a group with ghosts: away members keep their IP slot", async () => {
    // Its own server: the ghosts hold this address's slots for the whole grace period.
    const s = await startTestServer({ limits: { connectionsPerIp: 6, resumeGraceMs: 10_000 } });
    let ghosts = 0;
    let refused = 0;
    for (let i = 0; i < 20; i++) {
      let raw: RawWs;
      try {
        raw = (await RawWs.join(s.port, "ghosts")).raw;
      } catch (e) {
        expect(String(e)).toContain("429");
        refused++;
        continue;
      }
      raw.destroy();
      ghosts++;
      await Bun.sleep(20);
    }
    expect(ghosts).toBe(6);
    expect(refused).toBe(14);
    expect(s.hub.counts().members).toBe(6);
    await s.close();
  });

  test("a resume from a new socket while the old one is still open ends a ringing call", async () => {
    const s = await startTestServer({ limits: { resumeGraceMs: 5000 } });
    const a = await TestClient.open(s.wsUrl("ring"));
    const b = await TestClient.open(s.wsUrl("ring"));
    a.send({ t: "call", to: b.id });
    const inc = await b.next("incoming");
    const a2 = await TestClient.open(s.wsUrl("ring"), { device: a.device });
    expect(a2.id).toBe(a.id);
    expect(await b.next("ended")).toMatchObject({ callId: inc.callId, reason: "peer-gone" });
    expect((await a.waitClosed()).code).toBe(4001);
    a2.send({ t: "call", to: b.id });
    expect((await b.next("incoming")).from).toBe(a.id);
    a2.close();
    b.close();
    await s.close();
  });

  test("the key-exchange relay carries at most 8 messages per member and call", async () => {
    const { a, b, callId } = await connectedCall(server, "kxcap");
    const inc = { callId };
    for (let i = 0; i < 12; i++) a.send({ t: "kx", callId: inc.callId, body: `m${i}` });
    expect(await a.next("error")).toMatchObject({ code: "not-allowed", ref: "kx" });
    await Bun.sleep(150);
    expect(b.messages.filter((m) => m.t === "kx")).toHaveLength(8);
    a.close();
    b.close();
  });

  test("a connection closed for flooding cannot keep its call alive through a resume", async () => {
    const { a, b, callId } = await connectedCall(server, "flood-resume");
    const inc = { callId };
    for (let i = 0; i < 1000 && !a.closed; i++) a.send({ t: "ping" });
    expect((await a.waitClosed()).code).toBe(1008);
    expect(await b.next("ended")).toMatchObject({ callId: inc.callId, reason: "peer-gone" });
    expect(b.messages.some((m) => m.t === "peer-away")).toBe(false);
    b.close();
  });

  test("an exception inside the hub closes that socket with 1011, and the server keeps serving", async () => {
    const s = await startTestServer();
    const a = await TestClient.open(s.wsUrl("boom"));
    const b = await TestClient.open(s.wsUrl("boom"));
    const real = s.hub.text.bind(s.hub);
    s.hub.text = (conn, text) => {
      if (text.includes("explode")) throw new Error("injected fault");
      real(conn, text);
    };
    a.send({ t: "explode" });
    expect((await a.waitClosed()).code).toBe(1011);
    b.send({ t: "ping" });
    await b.next("pong");
    const c = await TestClient.open(s.wsUrl("boom"));
    expect(c.id).toBeTruthy();
    b.close();
    c.close();
    await s.close();
  });
});

describe("client addresses behind a proxy", () => {
  async function upgradesAccepted(s: TestServer, headers: (i: number) => Record<string, string>, n: number) {
    const open: TestClient[] = [];
    let accepted = 0;
    for (let i = 0; i < n; i++) {
      try {
        open.push(await TestClient.open(s.wsUrl("xff"), { headers: headers(i) }));
        accepted++;
      } catch {
        // refused at the door
      }
    }
    for (const c of open) c.close();
    return accepted;
  }

  test("x-forwarded-for: only the entry the nearest proxy appended counts", async () => {
    const s = await startTestServer({ trustProxy: "x-forwarded-for", limits: { connectionsPerIp: 3 } });
    // The client writes its own fake entries; the proxy appended 203.0.113.7 last.
    expect(await upgradesAccepted(s, (i) => ({ "X-Forwarded-For": `10.0.0.${i}, 203.0.113.7` }), 6)).toBe(3);
    expect(await upgradesAccepted(s, (i) => ({ "CF-Connecting-IP": `10.9.9.${i}`, "X-Forwarded-For": "203.0.113.8" }), 6)).toBe(3);
    await s.close();
  });

  test("cloudflare mode ignores X-Forwarded-For, and no mode trusts any header", async () => {
    const cf = await startTestServer({ trustProxy: "cloudflare", limits: { connectionsPerIp: 3 } });
    expect(await upgradesAccepted(cf, (i) => ({ "X-Forwarded-For": `10.0.0.${i}`, "CF-Connecting-IP": "198.51.100.1" }), 6)).toBe(3);
    await cf.close();
    const none = await startTestServer({ limits: { connectionsPerIp: 3 } });
    expect(await upgradesAccepted(none, (i) => ({ "CF-Connecting-IP": `10.0.0.${i}`, "X-Forwarded-For": `10.1.0.${i}` }), 6)).toBe(3);
    const res = await fetch(`${none.url}/ws/xff`, { headers: UPGRADE, tls: { rejectUnauthorized: false } } as any);
    expect(res.status).not.toBe(429);
    await none.close();
  });
});

describe("configuration types", () => {
  test.each([
    [{ trustProxy: "false" }, /trustProxy/],
    [{ trustProxy: true }, /trustProxy/],
    [{ allowedOrigins: "https://voice.example.com" }, /allowedOrigins/],
    [{ http: "false" }, /http must be true or false/],
    [{ limits: { ringTimeoutMs: "45" } }, /ringTimeoutMs/],
    [{ limits: { ringTimout: 5 } }, /unknown limit/],
    [{ port: 70000 }, /port/],
    [{ http: true, host: "0.0.0.0" }, /loopback/],
  ])("%j is refused with a clear message", (layer, msg) => {
    expect(() => resolveConfig([layer as any])).toThrow(ConfigError);
    expect(() => resolveConfig([layer as any])).toThrow(msg);
  });
});

describe("hub re-entrancy (sockets that close synchronously, as Bun's do)", () => {
  test("a caller whose socket is closed while being told 'outgoing' never leaves the callee ringing", async () => {
    const hub = new Hub({ limits: { ...DEFAULT_LIMITS, resumeGraceMs: 0 }, log: silentLogger, version: "test", roster: new SqliteRoster(":memory:") });
    const inbox = new Map<string, ServerMessage[]>();
    const make = (name: string, buffered: () => number) => {
      inbox.set(name, []);
      const socket: Socket = {
        sendText: (t) => inbox.get(name)!.push(JSON.parse(t)),
        sendBinary: () => 1,
        bufferedAmount: buffered,
        close: (code) => hub.close(conn, code),
      };
      const conn = hub.open(socket, "g", name);
      return conn;
    };
    let stuck = false;
    const attacker = make("attacker", () => (stuck ? 10 * 1024 * 1024 : 0));
    const victim = make("victim", () => 0);
    const join = async (conn: ReturnType<typeof make>, name: string) => {
      const n = (inbox.get(name)![0] as Extract<ServerMessage, { t: "challenge" }>).n;
      hub.text(conn, JSON.stringify(await (await TestDevice.create()).hello(n, "g")));
      while (!inbox.get(name)!.some((m) => m.t === "welcome")) await Bun.sleep(1);
      return (inbox.get(name)!.find((m) => m.t === "welcome") as Extract<ServerMessage, { t: "welcome" }>).id;
    };
    await join(attacker, "attacker");
    const victimId = await join(victim, "victim");
    stuck = true; // the attacker stops reading: its send queue is hopeless
    hub.text(attacker, JSON.stringify({ t: "call", to: victimId }));
    return Promise.resolve().then(() => {
      const v = inbox.get("victim")!;
      // Every ring must be followed by its end — never a ring for a call that is already gone.
      v.forEach((m, i) => {
        if (m.t !== "incoming") return;
        expect(v.slice(i + 1).some((x) => x.t === "ended" && x.callId === m.callId)).toBe(true);
      });
      expect(hub.counts().calls).toBe(0);
    });
  });
});

describe("issue #13: smaller items", () => {
  test("a WebSocket ping flood is closed with 1008; a few pings are fine", async () => {
    const s = await startTestServer();
    const { raw: calm } = await RawWs.join(s.port, "pings");
    for (let i = 0; i < 10; i++) calm.sendFrame(9, new Uint8Array([i]));
    const { raw: flood } = await RawWs.join(s.port, "pings");
    for (let i = 0; i < 2000 && !flood.closed; i++) flood.sendFrame(9, new Uint8Array(8));
    expect(await flood.waitClosed()).toMatchObject({ code: 1008 });
    await Bun.sleep(100);
    expect(calm.closed).toBeNull();
    calm.sendText({ t: "ping" });
    await calm.nextText((m) => m.t === "pong");
    calm.destroy();
    await s.close();
  });

  test("error replies cut client-supplied field and type names", async () => {
    const s = await startTestServer();
    const c = await TestClient.open(s.wsUrl("echo"));
    const long = "F".repeat(4000);
    c.send({ t: "ping", [long]: 1 });
    const e1 = await c.next("error");
    expect(e1.code).toBe("bad-message");
    expect(e1.message).toContain("FFFF");
    expect(JSON.stringify(e1).length).toBeLessThan(150);
    c.send({ t: long });
    const e2 = await c.next("error");
    expect(e2.code).toBe("unknown-type");
    expect(JSON.stringify(e2).length).toBeLessThan(150);
    c.close();
    await s.close();
  });
});
