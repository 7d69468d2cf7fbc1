import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MEMBER_ID_RE } from "../../protocol/member-id.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { RawWs } from "../helpers/raw-ws.ts";
import { TestClient } from "../helpers/ws-client.ts";
import { connectedCall } from "../helpers/calls.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ limits: { resumeGraceMs: 1500 } });
});
afterAll(async () => {
  await server.close();
});

describe("presence", () => {
  test("members see their own group only, by name, with live online/offline events", async () => {
    const a = await TestClient.open(server.wsUrl("work"), { name: "Ann" });
    const b = await TestClient.open(server.wsUrl("work"), { name: "Bob" });
    const x = await TestClient.open(server.wsUrl("family"), { name: "Xena" });
    expect(a.id).toMatch(MEMBER_ID_RE);
    expect(a.id).toBe(a.device.id);
    expect(new Set([a.id, b.id, x.id]).size).toBe(3);

    const joined = await a.next("member", (m) => m.member.id === b.id);
    expect(joined.member).toMatchObject({ id: b.id, d: b.device.d, name: "Bob", online: true, status: "available" });
    const bWelcome = b.messages.find((m) => m.t === "welcome")!;
    expect(bWelcome.t === "welcome" && bWelcome.members).toEqual([expect.objectContaining({ id: a.id, name: "Ann", online: true })]);
    const xWelcome = x.messages.find((m) => m.t === "welcome")!;
    expect(xWelcome.t === "welcome" && xWelcome.members).toEqual([]);

    const c = await TestClient.open(server.wsUrl("work"), { name: "Cat" });
    await a.next("member", (m) => m.member.id === c.id && m.member.online);
    c.close();
    // Gone offline, still in the roster, with a last-seen time.
    const off = await a.next("member", (m) => m.member.id === c.id && !m.member.online);
    expect(off.member.lastSeen).toBeGreaterThan(Date.now() - 60_000);
    await b.next("member", (m) => m.member.id === c.id && !m.member.online);

    // A newcomer sees online members first, then offline ones.
    const d = await TestClient.open(server.wsUrl("work"));
    const dw = d.messages.find((m) => m.t === "welcome")!;
    expect(dw.t === "welcome" && dw.members.map((m) => [m.name, m.online])).toEqual([
      [expect.stringMatching(/Ann|Bob/), true],
      [expect.stringMatching(/Ann|Bob/), true],
      ["Cat", false],
    ]);

    // Nothing of group "work" ever reached the "family" member, and vice versa.
    await Bun.sleep(100);
    const leaked = JSON.stringify(x.messages);
    for (const id of [a.id, b.id, c.id]) expect(leaked).not.toContain(id);
    expect(JSON.stringify([...a.messages, ...b.messages])).not.toContain(x.id);

    // A call to a member of another group is as if the member did not exist.
    a.send({ t: "call", to: x.id });
    expect((await a.next("ended")).reason).toBe("unavailable");
    expect(x.messages.some((m) => m.t === "incoming")).toBe(false);
    for (const cl of [a, b, x, d]) cl.close();
  });

  test("the same device key is the same member in another group, and gets the same ID", async () => {
    const a = await TestClient.open(server.wsUrl("alpha"));
    const again = await TestClient.open(server.wsUrl("beta"), { device: a.device });
    expect(again.id).toBe(a.id);
    // …but it is a different roster: alpha's members are not listed in beta.
    const w = again.messages.find((m) => m.t === "welcome")!;
    expect(w.t === "welcome" && w.members).toEqual([]);
    a.close();
    again.close();
  });

  test("a dropped connection resumes its ID and its connected call within the grace period", async () => {
    const { a, b, callId } = await connectedCall(server, "resume");
    a.close(4100); // the app's "page hidden, back soon" close keeps the member
    await b.next("peer-away", (m) => m.callId === callId);
    const a2 = await TestClient.open(server.wsUrl("resume"), { device: a.device });
    expect(a2.id).toBe(a.id);
    const w = a2.messages.find((m) => m.t === "welcome")!;
    expect(w.t === "welcome" && w.resumed).toBe(true);
    const again = await a2.next("connected");
    expect(again.callId).toBe(callId);
    await b.next("peer-back", (m) => m.callId === callId);
    expect(b.messages.some((m) => m.t === "member" && m.member.id === a.id && !m.member.online)).toBe(false);

    // Without a resume the grace runs out: the peer learns the call ended and the member is offline.
    a2.close(4100);
    const ended = await b.next("ended", () => true, 4000);
    expect(ended.reason).toBe("peer-gone");
    await b.next("member", (m) => m.member.id === a.id && !m.member.online, 4000);
    b.close();
  });

  test("going away (1001: the browser ending the app's link worker with a hidden or reloaded page) keeps the call for a resume", async () => {
    const { a, b, callId } = await connectedCall(server, "away");
    a.close(1001);
    await b.next("peer-away", (m) => m.callId === callId);
    const a2 = await TestClient.open(server.wsUrl("away"), { device: a.device });
    expect(a2.messages.find((m) => m.t === "welcome")).toMatchObject({ resumed: true });
    expect((await a2.next("connected")).callId).toBe(callId);
    await b.next("peer-back", (m) => m.callId === callId);
    expect(b.messages.some((m) => m.t === "ended")).toBe(false);
    a2.close();
    b.close();
  });

  test("a real network drop (no close frame) also keeps the member for a resume", async () => {
    const b = await TestClient.open(server.wsUrl("drop"));
    const { raw, id, device: dev } = await RawWs.join(server.port, "drop");
    const w = { id };
    await b.next("member", (m) => m.member.id === w.id);
    raw.destroy();
    await Bun.sleep(300);
    expect(b.messages.some((m) => m.t === "member" && m.member.id === w.id && !m.member.online)).toBe(false);
    const back = await TestClient.open(server.wsUrl("drop"), { device: dev });
    expect(back.id).toBe(w.id);
    expect(back.messages.find((m) => m.t === "welcome")).toMatchObject({ resumed: true });
    back.close();
    b.close();
  });

  test("a second tab with the same device replaces the first, which is told why", async () => {
    const a = await TestClient.open(server.wsUrl("tabs"));
    const b = await TestClient.open(server.wsUrl("tabs"));
    const a2 = await TestClient.open(server.wsUrl("tabs"), { device: a.device });
    expect(a2.id).toBe(a.id);
    expect(await a.next("bye")).toMatchObject({ reason: "replaced" });
    expect((await a.waitClosed()).code).toBe(4001);
    // One person, not two: b saw no second member and no offline event.
    await Bun.sleep(100);
    expect(b.messages.filter((m) => m.t === "member" && m.member.id === a.id && !m.member.online)).toHaveLength(0);
    expect(server.hub.counts().members).toBeGreaterThanOrEqual(2);
    a2.send({ t: "call", to: b.id });
    expect((await b.next("incoming")).from).toBe(a.id);
    a2.close();
    b.close();
  });

  test("a clean close goes offline at once; rename and a signed leave reach the group", async () => {
    const a = await TestClient.open(server.wsUrl("clean"), { name: "Ann" });
    const b = await TestClient.open(server.wsUrl("clean"));
    a.send({ t: "rename", name: "Grandma" });
    expect((await b.next("member", (m) => m.member.id === a.id && m.member.name === "Grandma")).member.online).toBe(true);
    const t0 = performance.now();
    a.close(1000);
    await b.next("member", (m) => m.member.id === a.id && !m.member.online, 1000);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(server.roster.member("clean", a.id)?.name).toBe("Grandma");

    const a2 = await TestClient.open(server.wsUrl("clean"), { device: a.device, name: "Grandma" });
    a2.send(await a.device.leave(a2.n, "clean"));
    await b.next("removed", (m) => m.id === a.id);
    expect((await a2.waitClosed()).code).toBe(1000);
    expect(server.roster.member("clean", a.id)).toBeNull();

    // The app closes its socket right after the leave: the leave still counts.
    const c = await TestClient.open(server.wsUrl("clean"), { name: "Cat" });
    c.send(await c.device.leave(c.n, "clean"));
    c.close(1000);
    await b.next("removed", (m) => m.id === c.id);
    expect(server.roster.member("clean", c.id)).toBeNull();
    b.close();
  });
});

test("the server's own shutdown close (1001) is final: nobody is kept away for a resume of a stopped hub", async () => {
  // Two connections per address: kept "away", the two members would hold both slots (and a
  // minute-long grace timer each) in a hub that is gone.
  const own = await startTestServer({ limits: { resumeGraceMs: 60_000, connectionsPerIp: 2 } });
  try {
    const a = await TestClient.open(own.wsUrl("down"));
    const b = await TestClient.open(own.wsUrl("down"));
    expect(own.hub.canAcceptFrom("127.0.0.1")).toBe(false);
    own.hub.shutdown();
    expect((await a.waitClosed()).code).toBe(1001);
    expect((await b.waitClosed()).code).toBe(1001);
    await Bun.sleep(100);
    expect(own.hub.counts()).toMatchObject({ members: 0, connections: 0 });
    expect(own.hub.canAcceptFrom("127.0.0.1")).toBe(true);
  } finally {
    await own.close();
  }
});
