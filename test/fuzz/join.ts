// How a well-behaved client joins a group: the innocent call's members come in through here,
// and only here (TestClient.open: the server's challenge, the device's signed hello, welcome).
import { TestClient } from "../helpers/ws-client.ts";

export function joinGroup(wsUrl: string, name?: string): Promise<TestClient> {
  return TestClient.open(wsUrl, { name });
}
