// The link worker's entry (LINK_WORKER_URL): a LinkHost answering the page that started it.
// "ready" tells the page the script runs; until then the page holds its commands back, and if
// this never comes it runs the host itself (link-client.ts). It also says whether this worker
// can start workers of its own: the WebAssembly Opus fallback runs in one, and a browser
// without nested workers (WebKit added them in September 2022) — the very browsers that may
// need that fallback — gets the host in the page instead.
import { LinkHost } from "./link-host.ts";
import type { LinkCommand, LinkEvent } from "./link-protocol.ts";

const scope = self as unknown as {
  postMessage(msg: LinkEvent | { ev: "ready"; nestedWorkers: boolean }, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<LinkCommand>) => void) | null;
};
const host = new LinkHost((ev, transfer = []) => scope.postMessage(ev, transfer));
scope.onmessage = (e) => host.handle(e.data);
scope.postMessage({ ev: "ready", nestedWorkers: typeof Worker === "function" });
