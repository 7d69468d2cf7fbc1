// The JSON a push message carries to a closed app's service worker (issue #9). It is encrypted
// to the device (RFC 8291), so the push service sees only its size and timing; it still holds as
// little as the notification needs.
//
// Decisions (docs/PUSH.md):
// - Beside the caller's name, group, callId and expiry the payload carries the caller's member
//   ID: names are not unique in a group, and "Call back" from the missed-calls list must call
//   the right person. The ID is no secret from the recipient (it is in their roster).
// - `kind` says whether this is the ringing notification or the missed-call one that replaces
//   it (same tag, same Topic): a push must always show something, so there is no "cancel" push.
import { isValidGroupName } from "./group-name.ts";
import { CALL_ID_RE } from "./messages.ts";
import { isMemberId } from "./member-id.ts";

export type PushKind = "ring" | "missed";

export interface PushPayload {
  v: 1;
  kind: PushKind;
  callId: string;
  group: string;
  /** The caller's display name and member ID. */
  name: string;
  from: string;
  /** Epoch ms after which a ring is stale (the call stopped ringing by then). */
  exp: number;
}

/** The service worker's check: anything else in a push is ignored, not shown. */
export function parsePushPayload(v: unknown): PushPayload | null {
  if (typeof v !== "object" || v === null) return null;
  const p = v as Record<string, unknown>;
  if (p.v !== 1 || (p.kind !== "ring" && p.kind !== "missed")) return null;
  if (typeof p.callId !== "string" || !CALL_ID_RE.test(p.callId)) return null;
  if (typeof p.group !== "string" || !isValidGroupName(p.group)) return null;
  if (typeof p.name !== "string" || p.name.length === 0 || p.name.length > 64) return null;
  if (!isMemberId(p.from) || typeof p.exp !== "number" || !Number.isFinite(p.exp)) return null;
  return { v: 1, kind: p.kind, callId: p.callId, group: p.group, name: p.name, from: p.from, exp: p.exp };
}
