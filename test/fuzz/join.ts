// How a well-behaved client joins a group: the innocent call's members come in through here,
// and only here, so a new hello (v2: challenge and signature) is one change in this file and in
// catalogue.ts's helloMessage().
import type { ServerMessage } from "../../protocol/messages.ts";
import { TestClient } from "../helpers/ws-client.ts";
import { helloMessage } from "./catalogue.ts";

export async function joinGroup(wsUrl: string): Promise<TestClient> {
  const c = await TestClient.open(wsUrl, { hello: false });
  c.send(helloMessage());
  const w = (await c.next("welcome")) as Extract<ServerMessage, { t: "welcome" }>;
  c.id = w.id;
  c.token = w.token;
  return c;
}
