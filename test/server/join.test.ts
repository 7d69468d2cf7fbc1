// Attacks on joining (IDENTITY.md §2–§3), each against the real server over TLS/WSS, each beside
// an unrelated call that must keep every frame.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { base64urlDecode, base64urlEncode } from "../../protocol/base64url.ts";
import { groupKeys, helloSignedBytes, joinProof } from "../../protocol/identity-v2.ts";
import { encodeMediaHeader } from "../../protocol/media-header.ts";
import { connectedCall } from "../helpers/calls.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { newGroupSecret, TestDevice } from "../helpers/test-device.ts";
import { TestClient } from "../helpers/ws-client.ts";
import collision from "../fixtures/member-id-collision.json";

let server: TestServer;
let innocent: Awaited<ReturnType<typeof connectedCall>>;
let talking: ReturnType<typeof setInterval>;
let sent = 0;

beforeAll(async () => {
  server = await startTestServer({ limits: { failedJoinsPerIpPerMinute: 1000 } });
  innocent = await connectedCall(server, "innocent");
  talking = setInterval(() => {
    const f = new Uint8Array(80);
    f.set(encodeMediaHeader({ callHandle: innocent.handle, epoch: 0, seq: sent++ }));
    innocent.a.ws.send(f);
  }, 20);
});

afterAll(async () => {
  clearInterval(talking);
  await Bun.sleep(200);
  // The innocent call lost nothing while every attack below ran.
  expect(innocent.b.frames.length).toBe(sent);
  expect(innocent.b.closed).toBeNull();
  innocent.a.close();
  innocent.b.close();
  await server.close();
});

/** A socket on `group` that has read its challenge, for hand-made hellos. */
async function bare(group: string, device?: TestDevice): Promise<TestClient> {
  return TestClient.open(server.wsUrl(group), { hello: false, device });
}

async function refused(c: TestClient, code: string, closeCode?: number): Promise<void> {
  expect(await c.next("error", (e) => e.ref === "hello")).toMatchObject({ code });
  if (closeCode !== undefined) expect((await c.waitClosed()).code).toBe(closeCode);
  expect(c.messages.some((m) => m.t === "welcome")).toBe(false);
}

/** A private group created by `owner` with secret G; returns G. */
async function privateGroup(name: string): Promise<{ G: Uint8Array; owner: TestClient }> {
  const G = newGroupSecret();
  const owner = await TestClient.open(server.wsUrl(name), { secret: G, create: true, name: "Owner" });
  expect(owner.messages.find((m) => m.t === "welcome")).toMatchObject({ private: true });
  return { G, owner };
}

describe("hello v2 signatures", () => {
  test("a hello signed for another group is refused and closes the socket", async () => {
    const c = await bare("sig-a");
    c.send(await c.device.hello(c.n, "sig-b"));
    await refused(c, "bad-signature", 1008);
  });

  test("a hello signed over another socket's challenge (a replay) is refused", async () => {
    const first = await bare("replay");
    const hello = await first.device.hello(first.n, "replay");
    first.send(hello);
    await first.next("welcome");
    const second = await bare("replay", first.device);
    second.send(hello); // the same bytes, captured from the first socket
    await refused(second, "bad-signature", 1008);
    expect(first.closed).toBeNull(); // the real member was not displaced
    first.close();
  });

  test("another device claiming a member's key (its public key, not its private key) is refused", async () => {
    const victim = await TestClient.open(server.wsUrl("claim"));
    const thief = await bare("claim");
    const own = await thief.device.hello(thief.n, "claim");
    thief.send({ ...own, d: victim.device.d }); // the victim's D with the thief's signature
    await refused(thief, "bad-signature", 1008);
    expect(victim.closed).toBeNull();
    victim.close();
  });

  test("a different device whose key has the same member ID is refused; the member keeps the ID", async () => {
    // Two committed P-256 keys whose IDs collide (test/identity/find-id-collision.ts).
    const [a, b] = await Promise.all(collision.keys.map((k) => TestDevice.fromJwk(k)));
    expect(a!.id).toBe(b!.id);
    const first = await TestClient.open(server.wsUrl("collide"), { device: a });
    const second = await bare("collide", b);
    await second.sendHello();
    await refused(second, "id-taken", 4002);
    expect(first.closed).toBeNull();
    first.close();
  });

  test("a v1 hello is told to update the app", async () => {
    const c = await bare("old-app");
    c.send({ t: "hello", v: 1 });
    expect(await c.next("error")).toMatchObject({ code: "upgrade-required" });
    c.close();
  });
});

describe("private groups", () => {
  test("the creator and invitees with G join; the server never sees G or psk", async () => {
    const { G, owner } = await privateGroup("priv-ok");
    const guest = await TestClient.open(server.wsUrl("priv-ok"), { secret: G, name: "Guest" });
    expect(guest.messages.find((m) => m.t === "welcome")).toMatchObject({ private: true });
    await owner.next("member", (m) => m.member.id === guest.id);
    const { joinKey, psk } = await groupKeys(G);
    const stored = server.roster.group("priv-ok")!;
    expect(Buffer.from(stored.joinKey!).equals(Buffer.from(joinKey))).toBe(true);
    // Nothing derived from G but joinKey is anywhere in the database file.
    const db = Buffer.from(await Bun.file(`${server.dataDir}/voicesrv.db`).arrayBuffer());
    const wal = Buffer.from(await Bun.file(`${server.dataDir}/voicesrv.db-wal`).arrayBuffer().catch(() => new ArrayBuffer(0)));
    for (const secret of [G, psk]) {
      expect(db.includes(Buffer.from(secret))).toBe(false);
      expect(wal.includes(Buffer.from(secret))).toBe(false);
    }
    owner.close();
    guest.close();
  });

  test("without a proof, with a proof for another nonce or another device, or a replayed proof: refused, revealing nobody", async () => {
    const { G, owner } = await privateGroup("priv-no");
    const { joinKey } = await groupKeys(G);

    const none = await bare("priv-no");
    await none.sendHello();
    await refused(none, "not-invited", 4002);

    const otherNonce = await bare("priv-no");
    const wrongN = crypto.getRandomValues(new Uint8Array(32));
    otherNonce.send({ ...(await otherNonce.device.hello(otherNonce.n, "priv-no")), proof: base64urlEncode(await joinProof(joinKey, wrongN, otherNonce.device.publicKey)) });
    await refused(otherNonce, "not-invited", 4002);

    const otherDevice = await bare("priv-no");
    const someoneElse = await TestDevice.create();
    otherDevice.send({ ...(await otherDevice.device.hello(otherDevice.n, "priv-no")), proof: base64urlEncode(await joinProof(joinKey, base64urlDecode(otherDevice.n)!, someoneElse.publicKey)) });
    await refused(otherDevice, "not-invited", 4002);

    // A proof captured from a member's join, replayed on a new socket by that same device.
    const member = await bare("priv-no");
    const good = await member.device.hello(member.n, "priv-no", { secret: G });
    member.send(good);
    member.id = (await member.next("welcome")).id;
    const replay = await bare("priv-no", member.device);
    replay.send({ ...(await replay.device.hello(replay.n, "priv-no")), proof: good.proof });
    await refused(replay, "not-invited", 4002);

    // A right signature does not make a wrong proof right: the group is private even to a
    // correctly signed hello with joinKey offered for a name that exists.
    const squatter = await bare("priv-no");
    await squatter.sendHello({ secret: newGroupSecret(), create: true });
    await refused(squatter, "group-exists", 4002);

    // None of the refused sockets learned who is in the group.
    for (const c of [none, otherNonce, otherDevice, replay, squatter]) {
      const text = JSON.stringify(c.messages);
      expect(text).not.toContain(owner.id);
      expect(text).not.toContain(member.id);
      expect(text).not.toContain("Owner");
      expect(c.messages.map((m) => m.t).sort()).toEqual(["challenge", "error"]);
    }
    expect(server.roster.members("priv-no").map((m) => m.id).sort()).toEqual([owner.id, member.id].sort());
    owner.close();
    member.close();
  });

  test("a flood of bad hellos from one address is cut off before any signature is checked", async () => {
    const s = await startTestServer({ limits: { failedJoinsPerIpPerMinute: 5, connectionsPerIp: 100 } });
    const { G } = { G: newGroupSecret() };
    const owner = await TestClient.open(s.wsUrl("flooded"), { secret: G, create: true });
    const codes: string[] = [];
    for (let i = 0; i < 12; i++) {
      const c = await TestClient.open(s.wsUrl("flooded"), { hello: false });
      await c.sendHello(); // no proof
      codes.push((await c.next("error")).code);
      c.close();
    }
    expect(codes.slice(0, 5)).toEqual(Array(5).fill("not-invited"));
    expect(codes.slice(5).every((c) => c === "rate-limited")).toBe(true);
    // Even the right proof is not checked from that address now; the member is unaffected.
    const late = await TestClient.open(s.wsUrl("flooded"), { hello: false });
    await late.sendHello({ secret: G });
    expect((await late.next("error")).code).toBe("rate-limited");
    expect(owner.closed).toBeNull();
    owner.close();
    await s.close();
  });

  test("hellos per address and minute are limited", async () => {
    const s = await startTestServer({ limits: { joinsPerIpPerMinute: 6, connectionsPerIp: 100 } });
    const results: string[] = [];
    for (let i = 0; i < 8; i++) {
      const c = await TestClient.open(s.wsUrl("burst"), { hello: false });
      await c.sendHello();
      const m = await c.nextMatching((x) => x.t === "welcome" || x.t === "error");
      results.push(m.t === "error" ? m.code : m.t);
    }
    expect(results.filter((r) => r === "welcome").length).toBeLessThanOrEqual(3);
    expect(results.at(-1)).toBe("rate-limited");
    await s.close();
  });
});

describe("group policy", () => {
  test("'operator' mode accepts only groups the operator made; 'private' mode refuses URL groups", async () => {
    const op = await startTestServer({ groups: "operator" });
    const c = await TestClient.open(op.wsUrl("anything"), { hello: false });
    await c.sendHello();
    expect((await c.next("error")).code).toBe("not-invited");
    const d = await TestClient.open(op.wsUrl("mine"), { hello: false });
    await d.sendHello({ secret: newGroupSecret(), create: true });
    expect((await d.next("error")).code).toBe("not-invited");
    op.roster.createGroup({ name: "family", kind: "open", joinKey: null, createdBy: "operator", createdAt: Date.now() });
    const e = await TestClient.open(op.wsUrl("family"));
    expect(e.id).toBeTruthy();
    e.close();
    await op.close();

    const priv = await startTestServer({ groups: "private" });
    const f = await TestClient.open(priv.wsUrl("open-url"), { hello: false });
    await f.sendHello();
    expect((await f.next("error")).code).toBe("not-invited");
    const g = await TestClient.open(priv.wsUrl("made-here"), { secret: newGroupSecret(), create: true });
    expect(g.id).toBeTruthy();
    g.close();
    await priv.close();
  });
});
