// The link worker's entry (LINK_WORKER_URL): a LinkHost answering the page that started it.
// "ready" tells the page the script runs; until then the page holds its commands back, and if
// this never comes it runs the host itself (link-client.ts).
import { LinkHost } from "./link-host.ts";
import type { LinkCommand, LinkEvent } from "./link-protocol.ts";

const scope = self as unknown as {
  postMessage(msg: LinkEvent | { ev: "ready" }, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<LinkCommand>) => void) | null;
};
const host = new LinkHost((ev, transfer = []) => scope.postMessage(ev, transfer));
scope.onmessage = (e) => host.handle(e.data);
scope.postMessage({ ev: "ready" });
