import { afterAll, beforeAll, describe, expect, test } from "vitest";
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
  test("members see their own group only, with live joined/left events", async () => {
    const a = await TestClient.open(server.wsUrl("work"));
    const b = await TestClient.open(server.wsUrl("work"));
    const x = await TestClient.open(server.wsUrl("family"));
    expect(a.id).toMatch(/^[A-Z0-9]{6}$/);
    expect(new Set([a.id, b.id, x.id]).size).toBe(3);

    const joined = await a.next("joined");
    expect(joined.member).toEqual({ id: b.id, status: "available" });
    const bWelcome = b.messages.find((m) => m.t === "welcome")!;
    expect(bWelcome.t === "welcome" && bWelcome.members).toEqual([{ id: a.id, status: "available" }]);
    const xWelcome = x.messages.find((m) => m.t === "welcome")!;
    expect(xWelcome.t === "welcome" && xWelcome.members).toEqual([]);

    const c = await TestClient.open(server.wsUrl("work"));
    await a.next("joined", (m) => m.member.id === c.id);
    c.close();
    await a.next("left", (m) => m.id === c.id);
    await b.next("left", (m) => m.id === c.id);

    // Nothing of group "work" ever reached the "family" member, and vice versa.
    await Bun.sleep(100);
    const leaked = JSON.stringify(x.messages);
    for (const id of [a.id, b.id, c.id]) expect(leaked).not.toContain(id);
    expect(JSON.stringify([...a.messages, ...b.messages])).not.toContain(x.id);

    // A call to a member of another group is as if the member did not exist.
    a.send({ t: "call", to: x.id });
    expect((await a.next("ended")).reason).toBe("unavailable");
    expect(x.messages.some((m) => m.t === "incoming")).toBe(false);
    for (const cl of [a, b, x]) cl.close();
  });

  test("a resume token from another group does not resume there", async () => {
    const a = await TestClient.open(server.wsUrl("alpha"));
    const spy = await TestClient.open(server.wsUrl("beta"), { resume: a.token });
    expect(spy.id).not.toBe(a.id);
    a.close();
    spy.close();
  });

  test("a dropped connection resumes its ID and its connected call within the grace period", async () => {
    const { a, b, callId } = await connectedCall(server, "resume");
    const inc = { callId };

    a.close(4100); // the app's "page hidden, back soon" close keeps the member
    await b.next("peer-away", (m) => m.callId === inc.callId);
    const a2 = await TestClient.open(server.wsUrl("resume"), { resume: a.token });
    expect(a2.id).toBe(a.id);
    const w = a2.messages.find((m) => m.t === "welcome")!;
    expect(w.t === "welcome" && w.resumed).toBe(true);
    const again = await a2.next("connected");
    expect(again.callId).toBe(inc.callId);
    await b.next("peer-back", (m) => m.callId === inc.callId);
    expect(b.messages.some((m) => m.t === "left")).toBe(false);

    // Without a resume the grace runs out: the peer learns the call ended and the member left.
    a2.close(4100);
    const ended = await b.next("ended", () => true, 4000);
    expect(ended.reason).toBe("peer-gone");
    await b.next("left", (m) => m.id === a.id, 4000);
    b.close();
  });

  test("a real network drop (no close frame) also keeps the member for a resume", async () => {
    const b = await TestClient.open(server.wsUrl("drop"));
    const raw = await RawWs.open(server.port, "/ws/drop");
    raw.sendText({ t: "hello", v: 1 });
    const w = await raw.nextText((m) => m.t === "welcome");
    await b.next("joined", (m) => m.member.id === w.id);
    raw.destroy();
    await Bun.sleep(300);
    expect(b.messages.some((m) => m.t === "left")).toBe(false);
    const back = await TestClient.open(server.wsUrl("drop"), { resume: w.token });
    expect(back.id).toBe(w.id);
    back.close();
    b.close();
  });

  test("a clean close leaves at once", async () => {
    const a = await TestClient.open(server.wsUrl("clean"));
    const b = await TestClient.open(server.wsUrl("clean"));
    const t0 = performance.now();
    a.close(1000);
    await b.next("left", (m) => m.id === a.id, 1000);
    expect(performance.now() - t0).toBeLessThan(1000);
    b.close();
  });
});
