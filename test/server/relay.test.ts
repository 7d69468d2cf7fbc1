import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { encodeMediaHeader } from "../../protocol/media-header.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { RawWs } from "../helpers/raw-ws.ts";
import { TestClient } from "../helpers/ws-client.ts";
import { connectedCall } from "../helpers/calls.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ limits: { mediaFramesPerSecond: 5000, resumeGraceMs: 0 } });
});
afterAll(async () => {
  await server.close();
});

let n = 0;
function frame(handle: number, seq: number, size = 80): Uint8Array<ArrayBuffer> {
  const f = new Uint8Array(12 + size);
  f.set(encodeMediaHeader({ callHandle: handle, epoch: 0, seq }));
  crypto.getRandomValues(f.subarray(12));
  return f;
}

describe("media relay", () => {
  test("forwards frames both ways byte for byte, in order", async () => {
    const { a, b, handle } = await connectedCall(server, `relay${n++}`);
    const sentA = Array.from({ length: 50 }, (_, i) => frame(handle, i, 20 + i));
    const sentB = Array.from({ length: 50 }, (_, i) => frame(handle, i, 200 - i));
    for (let i = 0; i < 50; i++) {
      a.ws.send(sentA[i]!);
      b.ws.send(sentB[i]!);
    }
    const gotB = await b.waitFrames(50);
    const gotA = await a.waitFrames(50);
    expect(gotB.map((f) => Buffer.from(f).toString("hex"))).toEqual(sentA.map((f) => Buffer.from(f).toString("hex")));
    expect(gotA.map((f) => Buffer.from(f).toString("hex"))).toEqual(sentB.map((f) => Buffer.from(f).toString("hex")));
    a.close();
    b.close();
  });

  test("frames from a non-member, with a foreign handle, or before answer are not delivered", async () => {
    const { a, b, group, handle } = await connectedCall(server, `relay${n++}`);
    const other = await connectedCall(server, `relay${n++}`);
    const eve = await TestClient.open(server.wsUrl(group));
    const before = { ...server.hub.media };

    eve.ws.send(frame(handle, 0)); // same group, not in the call
    other.a.ws.send(frame(handle, 0)); // in another call, using this call's handle
    a.ws.send(frame(0x7fffffff === handle ? 1 : 0x7fffffff, 0)); // a handle no call has
    const ringing = await TestClient.open(server.wsUrl(group));
    const callee = await TestClient.open(server.wsUrl(group));
    ringing.send({ t: "call", to: callee.id });
    await callee.next("incoming");
    // The ringing call's handle is unknown to the caller, so it guesses ours: still refused.
    ringing.ws.send(frame(handle, 0));

    a.ws.send(frame(handle, 1)); // the one legitimate frame
    const got = await b.waitFrames(1);
    await Bun.sleep(150);
    expect(got).toHaveLength(1);
    expect(a.frames).toHaveLength(0);
    expect(other.b.frames).toHaveLength(0);
    expect(callee.frames).toHaveLength(0);
    const m = server.hub.media;
    expect(m.droppedNotMember - before.droppedNotMember).toBe(3);
    expect(m.droppedUnknownCall - before.droppedUnknownCall).toBe(1);
    for (const c of [a, b, eve, other.a, other.b, ringing, callee]) c.close();
  });

  test("a receiver that stops reading gets frames dropped and counted, never buffered without bound", async () => {
    const group = `slow${n++}`;
    const fast = await TestClient.open(server.wsUrl(group));
    const { raw: slow, id: slowId } = await RawWs.join(server.port, group);
    const w = { id: slowId };
    fast.send({ t: "call", to: w.id });
    const inc = await slow.nextText((m) => m.t === "incoming");
    slow.sendText({ t: "answer", callId: inc.callId });
    const c = await fast.next("connected");
    slow.stopReading();

    const before = { ...server.hub.media };
    const total = 6000;
    const size = 2000;
    for (let i = 0; i < total; i++) {
      fast.ws.send(frame(c.callHandle, i, size));
      if (i % 50 === 49) await Bun.sleep(12); // stay under the media rate limit
    }
    await Bun.sleep(300);
    const relayed = server.hub.media.relayed - before.relayed;
    const dropped = server.hub.media.droppedBackpressure - before.droppedBackpressure;
    console.info(`slow receiver: ${relayed} frames accepted for it, ${dropped} dropped of ${total} (${(relayed * size / 1024).toFixed(0)} KiB)`);
    expect(relayed + dropped).toBe(total);
    expect(dropped).toBeGreaterThan(0);
    // What was accepted for the stuck receiver is bounded by kernel buffers plus our 64 KiB cap,
    // far below the 12 MB that was sent.
    expect(relayed * size).toBeLessThan(total * size * 0.6);
    // The sender's connection is unaffected.
    fast.send({ t: "ping" });
    await fast.next("pong");
    slow.destroy();
    fast.close();
  }, 30_000);
});
