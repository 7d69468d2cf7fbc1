import { encodeMediaHeader } from "../../protocol/media-header.ts";
import type { TestServer } from "./server.ts";
import { TestClient } from "./ws-client.ts";

/** Two members of `group` in an answered call: the starting point of most relay and abuse tests. */
export async function connectedCall(srv: TestServer, group: string) {
  return { ...(await connectedCallAt(srv.wsUrl(group))), group };
}

/** The same, for a server known only by its WebSocket URL (a spawned one, for instance). */
export async function connectedCallAt(wsUrl: string) {
  const a = await TestClient.open(wsUrl);
  const b = await TestClient.open(wsUrl);
  a.send({ t: "call", to: b.id });
  const inc = await b.next("incoming");
  b.send({ t: "answer", callId: inc.callId });
  const c = await a.next("connected");
  await b.next("connected");
  return { a, b, handle: c.callHandle, callId: inc.callId };
}

/**
 * Media both ways at a real call's cadence (one frame every 20 ms per direction, below the
 * 60/s limit), counting what was sent; `stop()` ends it.
 */
export function streamBothWays(call: { a: TestClient; b: TestClient; handle: number }, fill = 7) {
  let seq = 0;
  const sent = { a: 0, b: 0 };
  const payload = new Uint8Array(80).fill(fill);
  const timer = setInterval(() => {
    seq++;
    for (const [who, c] of [["a", call.a], ["b", call.b]] as const) {
      const frame = new Uint8Array(12 + payload.length);
      frame.set(encodeMediaHeader({ callHandle: call.handle, epoch: 0, seq }));
      frame.set(payload, 12);
      c.ws.send(frame);
      sent[who]++;
    }
  }, 20);
  return { sent, stop: () => clearInterval(timer) };
}
