// The media rate limit against what TCP really delivers: after a stall on a mobile link the
// backlog arrives all at once, and it must be relayed; a client that keeps sending faster than
// a call ever does must still be cut off.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_LIMITS } from "../../protocol/limits.ts";
import { encodeMediaHeader } from "../../protocol/media-header.ts";
import { connectedCall } from "../helpers/calls.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  // Default media limits on purpose: they are what is under test.
  server = await startTestServer({ limits: { resumeGraceMs: 0 } });
});
afterAll(async () => {
  await server.close();
});

function frame(handle: number, seq: number): Uint8Array<ArrayBuffer> {
  const f = new Uint8Array(90); // a 24 kbit/s Opus frame + header + GCM tag
  f.set(encodeMediaHeader({ callHandle: handle, epoch: 0, seq }));
  return f;
}

describe("media rate limit", () => {
  test("a stalled client's 2 s backlog, delivered at once, is relayed in full, and the call goes on", async () => {
    const { a, b, handle } = await connectedCall(server, "stall");
    const before = server.hub.media.droppedRate;
    let seq = 0;
    // 2 s of talk at 50 frames/s, then a 2 s stall whose 100 frames arrive in one burst.
    for (let i = 0; i < 100; i++) {
      a.ws.send(frame(handle, seq++));
      await Bun.sleep(20);
    }
    await Bun.sleep(2000);
    for (let i = 0; i < 100; i++) a.ws.send(frame(handle, seq++));
    // Normal talk resumes right after the backlog.
    for (let i = 0; i < 50; i++) {
      a.ws.send(frame(handle, seq++));
      await Bun.sleep(20);
    }
    await Bun.sleep(200);
    expect(server.hub.media.droppedRate - before).toBe(0);
    expect(b.frames.length).toBe(seq);
    expect(a.closed).toBeNull();
    a.close();
    b.close();
  });

  test("a sustained flood at 5× the call rate is cut to the long-run limit and the connection closed", async () => {
    const { a, b, handle } = await connectedCall(server, "flood");
    const before = server.hub.media.droppedRate;
    let seq = 0;
    // 250 frames/s: 5 frames every 20 ms, until the server closes the connection (or 15 s).
    const started = performance.now();
    while (!a.closed && performance.now() - started < 15_000) {
      for (let i = 0; i < 5; i++) a.ws.send(frame(handle, seq++));
      await Bun.sleep(20);
    }
    const seconds = (performance.now() - started) / 1000;
    expect(a.closed?.code).toBe(1008);
    const relayed = b.frames.length;
    // Never more than the burst plus the long-run rate over the flood's duration.
    expect(relayed).toBeLessThanOrEqual(DEFAULT_LIMITS.mediaBurstFrames + DEFAULT_LIMITS.mediaFramesPerSecond * seconds + 10);
    expect(server.hub.media.droppedRate - before).toBeGreaterThan(DEFAULT_LIMITS.mediaBurstFrames);
    b.close();
  });
});
