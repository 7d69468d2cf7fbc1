import type { Member } from "./member.ts";
import type { CallRole } from "../protocol/messages.ts";

export interface Call {
  /** 16 CSPRNG bytes, hex: binds the key exchange to this call (PROTOCOL.md §1). */
  readonly id: string;
  /** u32 routing number for media frames; random so it says nothing about call volume. */
  readonly handle: number;
  readonly caller: Member;
  /** Until a pushed callee's app connects, a stand-in built from the roster (conn null). */
  callee: Member;
  state: "ringing" | "connected";
  /** The callee's phone was rung by Web Push: an unanswered end sends the missed-call push. */
  pushed: boolean;
  /** The callee's app is not connected yet: the ring waits for its hello (issue #9). */
  awaiting: boolean;
  ringTimer: ReturnType<typeof setTimeout> | null;
  /** When the ring times out (Date.now() ms). */
  ringEndsAt: number;
  callerCodecs: string[];
  calleeCodecs: string[];
}

export function peerOf(call: Call, m: Member): Member {
  return call.caller === m ? call.callee : call.caller;
}

export function roleOf(call: Call, m: Member): CallRole {
  return call.caller === m ? "initiator" : "responder";
}

export function randomCallId(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export function randomHandle(): number {
  const b = new Uint32Array(1);
  do crypto.getRandomValues(b);
  while (b[0] === 0);
  return b[0]!;
}
