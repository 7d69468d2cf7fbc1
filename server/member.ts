import type { Connection } from "./connection.ts";
import type { Call } from "./call.ts";
import type { MemberInfo, MemberStatus } from "../protocol/messages.ts";

/** A roster member who is connected, or away within the resume grace (IDENTITY.md §2). */
export interface Member {
  readonly id: string;
  readonly group: string;
  /** The 65-byte device public key and its base64url form, as presence shows it. */
  readonly deviceKey: Uint8Array;
  readonly d: string;
  name: string;
  /** null while the member is away (network drop) and may still resume. */
  conn: Connection | null;
  call: Call | null;
  graceTimer: ReturnType<typeof setTimeout> | null;
  /**
   * The per-IP connection slot a member keeps while away: without it, connect-hello-drop loops
   * would fill a group with ghosts while the per-IP limit saw no open sockets.
   */
  heldIp: string | null;
  /** Key-exchange messages this member sent in its current call (the protocol needs ≤ 4). */
  kxSent: number;
}

export function memberStatus(m: Member): MemberStatus {
  if (!m.call) return "available";
  return m.call.state === "ringing" ? "ringing" : "in-call";
}

export function onlineInfo(m: Member, now: number): MemberInfo {
  return { id: m.id, d: m.d, name: m.name, online: true, status: memberStatus(m), lastSeen: now };
}
