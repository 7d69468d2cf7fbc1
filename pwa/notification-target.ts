// Where a tap on a call notification leads (sw-push.ts): the group's page, and for a ring the
// call it is about, which the app answers at once when the tap was "Answer"
// (answer-from-notification.ts reads these parameters).
import type { PushPayload } from "../protocol/push-payload.ts";

export function notificationTarget(p: PushPayload, answer: boolean): string {
  const path = `/${p.group}`;
  return p.kind === "ring" ? `${path}?call=${p.callId}${answer ? "&answer=1" : ""}` : path;
}
