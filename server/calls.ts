// The 1:1 call state machine (ringing → connected → ended) and the opaque key-exchange relay.
// Calls live in memory only; nothing about them is stored or logged beyond IDs and reasons.
import type { Limits } from "../protocol/limits.ts";
import type { ClientMessage, EndReason, ServerMessage } from "../protocol/messages.ts";
import { type Call, peerOf, randomCallId, randomHandle, roleOf } from "./call.ts";
import type { Logger } from "./logger.ts";
import type { Member } from "./member.ts";
import type { Outbox } from "./outbox.ts";

const DEFAULT_CODECS = ["pcmu16"];
/** commit/pub, reveal, confirm, id — plus slack for a retry; more is abuse of the relay. */
const MAX_KX_PER_CALL = 8;

type CallMessage = Extract<ClientMessage, { t: "call" | "answer" | "reject" | "cancel" | "hangup" | "kx" }>;

export interface CallsContext {
  /** The online (or away) member with that ID in the group, if any. */
  findMember(group: string, id: string): Member | undefined;
  /** A member's call status changed; presence tells the group. */
  statusChanged(m: Member): void;
}

export class Calls {
  private readonly byId = new Map<string, Call>();
  private readonly byHandle = new Map<number, Call>();
  kxRelayed = 0;

  constructor(
    private readonly limits: Limits,
    private readonly out: Outbox,
    private readonly log: Logger,
    private readonly ctx: CallsContext,
  ) {}

  get count(): number {
    return this.byId.size;
  }

  byMediaHandle(handle: number): Call | undefined {
    return this.byHandle.get(handle);
  }

  handle(me: Member, msg: CallMessage): void {
    if (msg.t === "call") return this.start(me, msg.to, msg.codecs ?? DEFAULT_CODECS);
    const call = this.byId.get(msg.callId);
    if (!call || (call.caller !== me && call.callee !== me)) {
      return this.out.error(me.conn!, "no-such-call", "that call does not exist or has ended", msg.t);
    }
    switch (msg.t) {
      case "answer":
        return this.answer(me, call, msg.codecs ?? DEFAULT_CODECS);
      case "reject":
        if (call.callee !== me || call.state !== "ringing") return this.out.error(me.conn!, "not-allowed", "only the person being called can decline a ringing call", "reject");
        return this.end(call, "declined", me.id);
      case "cancel":
        if (call.caller !== me || call.state !== "ringing") return this.out.error(me.conn!, "not-allowed", "only the caller can cancel a ringing call", "cancel");
        return this.end(call, "cancelled", me.id);
      case "hangup":
        return this.end(call, call.state === "ringing" ? (call.caller === me ? "cancelled" : "declined") : "hangup", me.id);
      case "kx":
        if (call.state !== "connected") return this.out.error(me.conn!, "not-allowed", "key exchange starts after the call is answered", "kx");
        if (++me.kxSent > MAX_KX_PER_CALL) return this.out.error(me.conn!, "not-allowed", "too many key-exchange messages for this call", "kx", true);
        this.kxRelayed++;
        // Opaque by design: the body is neither parsed nor logged (PROTOCOL.md §1, §8).
        return this.out.send(peerOf(call, me), { t: "kx", callId: call.id, body: msg.body });
    }
  }

  private start(me: Member, to: string, codecs: string[]): void {
    if (to === me.id) return this.out.error(me.conn!, "self-call", "you cannot call yourself", "call");
    if (me.call) return this.out.error(me.conn!, "already-in-call", "finish the current call first", "call");
    const callee = this.ctx.findMember(me.group, to);
    const callId = randomCallId();
    if (!callee || !callee.conn || callee.call) {
      this.out.send(me, { t: "outgoing", callId, to });
      return this.out.send(me, { t: "ended", callId, reason: callee?.call ? "busy" : "unavailable" });
    }
    let handle = randomHandle();
    while (this.byHandle.has(handle)) handle = randomHandle();
    const call: Call = { id: callId, handle, caller: me, callee, state: "ringing", ringTimer: null, callerCodecs: codecs, calleeCodecs: [] };
    call.ringTimer = setTimeout(() => this.end(call, "no-answer"), this.limits.ringTimeoutMs);
    this.byId.set(callId, call);
    this.byHandle.set(handle, call);
    me.call = call;
    callee.call = call;
    me.kxSent = 0;
    callee.kxSent = 0;
    this.log.info(`group=${me.group} call ${callId.slice(0, 8)} ${me.id} → ${callee.id} ringing`);
    this.out.send(me, { t: "outgoing", callId, to });
    // Sending can close a hopeless socket and end the call; never ring for a call that is gone.
    if (this.byId.get(callId) !== call) return;
    this.out.send(callee, { t: "incoming", callId, from: me.id, codecs });
    this.ctx.statusChanged(me);
    this.ctx.statusChanged(callee);
  }

  private answer(me: Member, call: Call, codecs: string[]): void {
    if (call.callee !== me || call.state !== "ringing") return this.out.error(me.conn!, "not-allowed", "only the person being called can answer a ringing call", "answer");
    if (call.ringTimer) clearTimeout(call.ringTimer);
    call.ringTimer = null;
    call.state = "connected";
    call.calleeCodecs = codecs;
    this.log.info(`group=${me.group} call ${call.id.slice(0, 8)} connected`);
    this.out.send(call.caller, connectedMessage(call, call.caller));
    this.out.send(call.callee, connectedMessage(call, call.callee));
    this.ctx.statusChanged(call.caller);
    this.ctx.statusChanged(call.callee);
  }

  end(call: Call, reason: EndReason, by?: string): void {
    if (this.byId.get(call.id) !== call) return;
    if (call.ringTimer) clearTimeout(call.ringTimer);
    this.byId.delete(call.id);
    this.byHandle.delete(call.handle);
    this.log.info(`group=${call.caller.group} call ${call.id.slice(0, 8)} ended: ${reason}${by ? ` by ${by}` : ""}`);
    for (const m of [call.caller, call.callee]) {
      if (m.call === call) m.call = null;
      this.out.send(m, by ? { t: "ended", callId: call.id, reason, by } : { t: "ended", callId: call.id, reason });
    }
    for (const m of [call.caller, call.callee]) this.ctx.statusChanged(m);
  }

  /** The member's link dropped: a ringing call cannot wait, a connected one waits for the resume. */
  memberAway(m: Member): void {
    if (m.call?.state === "ringing") this.end(m.call, "peer-gone", m.id);
    if (m.call) this.out.send(peerOf(m.call, m), { t: "peer-away", callId: m.call.id });
  }

  /**
   * The member came back on a new socket. A ringing call cannot be handed to it (it never saw
   * the callId); a connected call is re-announced so the app can pick it up.
   */
  memberBack(m: Member): void {
    const call = m.call;
    if (call?.state === "ringing") return this.end(call, "peer-gone", m.id);
    if (call?.state === "connected") {
      this.out.send(m, connectedMessage(call, m));
      this.out.send(peerOf(call, m), { t: "peer-back", callId: call.id });
    }
  }

  memberGone(m: Member): void {
    if (m.call) this.end(m.call, "peer-gone", m.id);
  }

  endAll(reason: EndReason): void {
    for (const call of [...this.byId.values()]) this.end(call, reason);
  }
}

function connectedMessage(call: Call, m: Member): ServerMessage {
  const peer = peerOf(call, m);
  return {
    t: "connected",
    callId: call.id,
    callHandle: call.handle,
    role: roleOf(call, m),
    peer: peer.id,
    peerCodecs: call.caller === m ? call.calleeCodecs : call.callerCodecs,
  };
}
