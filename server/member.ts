import type { Connection } from "./connection.ts";
import type { Call } from "./call.ts";
import type { MemberStatus } from "../protocol/messages.ts";

export interface Member {
  readonly id: string;
  readonly group: string;
  readonly token: string;
  /** null while the member is away (network drop) and may still resume. */
  conn: Connection | null;
  call: Call | null;
  graceTimer: ReturnType<typeof setTimeout> | null;
  /**
   * The per-IP connection slot a member keeps while away: without it, connect-hello-drop loops
   * would fill a group with ghosts while the per-IP limit saw no open sockets.
   */
  heldIp: string | null;
  /** Key-exchange messages this member sent in its current call (the protocol needs ≤ 3). */
  kxSent: number;
}

export function memberStatus(m: Member): MemberStatus {
  if (!m.call) return "available";
  return m.call.state === "ringing" ? "ringing" : "in-call";
}
