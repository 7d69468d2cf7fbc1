// Where a tap on a call notification leads (sw-push.ts): the group's page, and for a ring the
// call it is about. Whether to answer it is not in the address (anyone could send such a link):
// the worker records that in IndexedDB (answer-intent.ts).
import type { PushPayload } from "../protocol/push-payload.ts";

export function notificationTarget(p: PushPayload): string {
  const path = `/${p.group}`;
  return p.kind === "ring" ? `${path}?call=${p.callId}` : path;
}
