// Issue #13, defect 1: when Bun itself closes a socket for breaking the framing rules (a 65 KiB
// message → 1009, invalid UTF-8 → 1007, a reserved opcode → 1002), the member must go offline at
// once like after any policy close (WIRE.md) — not be kept "away" with its call and IP slot.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { effectiveCloseCode } from "../../server/close-code.ts";
import { RawWs } from "../helpers/raw-ws.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { TestClient } from "../helpers/ws-client.ts";

let server: TestServer;
beforeAll(async () => {
  // A long grace: a member wrongly kept "away" would still be there when the test looks.
  server = await startTestServer({ limits: { resumeGraceMs: 30_000, connectionsPerIp: 40 } });
});
afterAll(async () => {
  await server.close();
});

let n = 0;

/** A raw client (it can break the rules) in a connected call with a well-behaved one. */
async function rawInCall() {
  const group = `pc${n++}`;
  const { raw: bad, id, device } = await RawWs.join(server.port, group);
  const good = await TestClient.open(server.wsUrl(group));
  good.send({ t: "call", to: id });
  const inc = await bad.nextText((m) => m.t === "incoming");
  bad.sendText({ t: "answer", callId: inc.callId });
  await good.next("connected");
  return { group, bad, good, id, device, callId: inc.callId as string };
}

const breaches: [string, number, (ws: RawWs) => void][] = [
  ["a 65 KiB binary message", 1009, (ws) => ws.sendFrame(2, new Uint8Array(65 * 1024))],
  ["invalid UTF-8 in a text message", 1007, (ws) => ws.sendFrame(1, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))],
  ["a reserved opcode", 1002, (ws) => ws.sendFrame(3, new Uint8Array(0))],
  ["a ping over 125 bytes", 1002, (ws) => ws.sendFrame(9, new Uint8Array(200))],
];

describe("Bun's own protocol closes are policy closes", () => {
  test.each(breaches)("%s: closed with %i, the member is offline at once, its call ended", async (_what, wireCode, breach) => {
    const { group, bad, good, id, device, callId } = await rawInCall();
    const membersBefore = server.hub.counts().members;
    breach(bad);
    expect((await bad.waitClosed()).code).toBe(wireCode);
    // The peer hears that the call ended and the member went offline, not that it is away.
    expect(await good.next("ended")).toMatchObject({ callId, reason: "peer-gone" });
    await good.next("member", (m) => m.member.id === id && !m.member.online);
    expect(good.messages.some((m) => m.t === "peer-away")).toBe(false);
    expect(server.hub.counts().members).toBe(membersBefore - 1);
    // Nothing is held for a resume: the same device comes back as a fresh join.
    const again = await TestClient.open(server.wsUrl(group), { device });
    expect(again.messages.find((m) => m.t === "welcome")).toMatchObject({ resumed: false });
    again.close();
    good.close();
  });

  test("a network drop (no close frame) still keeps the member for a resume", async () => {
    const { group, bad, good, device, callId } = await rawInCall();
    bad.destroy();
    expect(await good.next("peer-away")).toMatchObject({ callId });
    const back = await TestClient.open(server.wsUrl(group), { device });
    expect(back.messages.find((m) => m.t === "welcome")).toMatchObject({ resumed: true });
    await good.next("peer-back");
    back.close();
    good.close();
  });

  test("a policy close frees the per-IP slot at once", async () => {
    const s = await startTestServer({ limits: { resumeGraceMs: 30_000, connectionsPerIp: 2 } });
    for (let i = 0; i < 5; i++) {
      const { raw } = await RawWs.join(s.port, "slots");
      raw.sendFrame(2, new Uint8Array(65 * 1024));
      expect((await raw.waitClosed()).code).toBe(1009);
      await Bun.sleep(20);
    }
    expect(s.hub.counts()).toMatchObject({ members: 0, connections: 0 });
    await s.close();
  });
});

describe("effectiveCloseCode", () => {
  test.each([
    [1006, "Received too big message", 1009],
    [1006, "Received invalid UTF-8", 1007],
    [1006, "Received invalid opcode", 1002],
    [1006, "Received too big control frame", 1002],
    [1006, "Received invalid close code", 1002],
    [1006, "", 1006],
    [1005, "", 1005],
    [1000, "bye", 1000],
    [4100, "", 4100],
  ])("(%i, %j) → %i", (code, reason, want) => {
    expect(effectiveCloseCode(code, reason)).toBe(want);
  });
});
