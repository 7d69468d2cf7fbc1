import type { TestServer } from "./server.ts";
import { TestClient } from "./ws-client.ts";

/** Two members of `group` in an answered call: the starting point of most relay and abuse tests. */
export async function connectedCall(srv: TestServer, group: string) {
  const a = await TestClient.open(srv.wsUrl(group));
  const b = await TestClient.open(srv.wsUrl(group));
  a.send({ t: "call", to: b.id });
  const inc = await b.next("incoming");
  b.send({ t: "answer", callId: inc.callId });
  const c = await a.next("connected");
  await b.next("connected");
  return { a, b, group, handle: c.callHandle, callId: inc.callId };
}
