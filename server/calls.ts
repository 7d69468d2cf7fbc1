// The 1:1 call state machine (ringing → connected → ended) and the opaque key-exchange relay.
// Calls live in memory only; nothing about them is stored or logged beyond IDs and reasons.
//
// Calling someone whose app is closed (issue #9): when they have a push subscription the call
// rings their phone by Web Push and waits for their app's hello ("awaiting"), for the longer
// pushRingTimeoutMs; the app picks the call up as an ordinary `incoming` after its welcome. A
// callee whose socket drops while ringing (the phone locked the screen) is rung the same way.
import type { Limits } from "../protocol/limits.ts";
import type { ClientMessage, EndReason, ServerMessage } from "../protocol/messages.ts";
import { type Call, peerOf, randomCallId, randomHandle, roleOf } from "./call.ts";
import type { Logger } from "./logger.ts";
import type { Member } from "./member.ts";
import type { Outbox } from "./outbox.ts";
import type { PushRinger } from "./push-ringer.ts";

const DEFAULT_CODECS = ["pcmu16"];
/** commit/pub, reveal, confirm, id — plus slack for a retry; more is abuse of the relay. */
const MAX_KX_PER_CALL = 8;
/** A pushed callee who opens the app just before the ring ends still gets time to answer. */
const MIN_RING_AFTER_ARRIVAL_MS = 15_000;

type CallMessage = Extract<ClientMessage, { t: "call" | "answer" | "reject" | "cancel" | "hangup" | "kx" }>;

export interface CallsContext {
  /** The online (or away) member with that ID in the group, if any. */
  findMember(group: string, id: string): Member | undefined;
  /** A member's call status changed; presence tells the group. */
  statusChanged(m: Member): void;
  /** A roster member who is not connected, as a stand-in (conn null), or undefined. */
  absentMember(group: string, id: string): Member | undefined;
}

export class Calls {
  private readonly byId = new Map<string, Call>();
  private readonly byHandle = new Map<number, Call>();
  /** Calls ringing a closed app, by "group/memberId" of the callee. */
  private readonly awaiting = new Map<string, Call>();
  /** Set when this server can push (VAPID keys and a sender). */
  ringer: PushRinger | null = null;
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
    const found = this.ctx.findMember(me.group, to);
    const callId = randomCallId();
    // Connected, or away within the grace, or only in the roster: the last two ring by push.
    // Someone whose phone is already being rung for another call is busy, like one in a call.
    const busy = Boolean(found?.call) || this.awaiting.has(`${me.group}/${to}`);
    const callee = busy ? undefined : (found ?? this.ctx.absentMember(me.group, to));
    const pushed = callee !== undefined && !callee.conn;
    if (!callee || (pushed && !this.ringer?.mayRing(me, callee))) {
      this.out.send(me, { t: "outgoing", callId, to });
      return this.out.send(me, { t: "ended", callId, reason: busy ? "busy" : "unavailable" });
    }
    let handle = randomHandle();
    while (this.byHandle.has(handle)) handle = randomHandle();
    const call: Call = {
      id: callId,
      handle,
      caller: me,
      callee,
      state: "ringing",
      ringTimer: null,
      ringEndsAt: 0,
      callerCodecs: codecs,
      calleeCodecs: [],
      pushed,
      awaiting: pushed,
    };
    this.ringFor(call, pushed ? this.limits.pushRingTimeoutMs : this.limits.ringTimeoutMs);
    this.byId.set(callId, call);
    this.byHandle.set(handle, call);
    me.call = call;
    callee.call = call;
    me.kxSent = 0;
    callee.kxSent = 0;
    this.log.info(`group=${me.group} call ${callId.slice(0, 8)} ${me.id} → ${callee.id} ringing${pushed ? " by push" : ""}`);
    this.out.send(me, pushed ? { t: "outgoing", callId, to, pushed: true } : { t: "outgoing", callId, to });
    // Sending can close a hopeless socket and end the call; never ring for a call that is gone.
    if (this.byId.get(callId) !== call) return;
    if (pushed) this.pushRing(call);
    else this.out.send(callee, { t: "incoming", callId, from: me.id, codecs });
    this.ctx.statusChanged(me);
    this.ctx.statusChanged(callee);
  }

  private ringFor(call: Call, ms: number): void {
    if (call.ringTimer) clearTimeout(call.ringTimer);
    call.ringEndsAt = Date.now() + ms;
    call.ringTimer = setTimeout(() => this.end(call, "no-answer"), ms);
  }

  /** The callee cannot hear this ring on a socket: ring their phone and wait for their app. */
  private pushRing(call: Call): void {
    call.awaiting = true;
    call.pushed = true;
    this.awaiting.set(memberKey(call.callee), call);
    this.ringer!.ring(call, () => {
      if (call.awaiting) this.end(call, "unavailable");
    });
  }

  /**
   * A member's app connected (a fresh join, or back within the grace): if a pushed call waits for
   * them it rings on this socket now, for at least MIN_RING_AFTER_ARRIVAL_MS more.
   */
  memberArrived(m: Member): void {
    const key = memberKey(m);
    const call = this.awaiting.get(key);
    if (!call || call.state !== "ringing" || this.byId.get(call.id) !== call) return;
    if (m.call && m.call !== call) return;
    this.awaiting.delete(key);
    call.awaiting = false;
    call.callee = m;
    m.call = call;
    m.kxSent = 0;
    this.ringFor(call, Math.max(call.ringEndsAt - Date.now(), MIN_RING_AFTER_ARRIVAL_MS));
    this.log.info(`group=${m.group} call ${call.id.slice(0, 8)} reached ${m.id}'s app`);
    // The caller's app times out on its own too: now it rings in the app, on the app's clock.
    this.out.send(call.caller, { t: "outgoing", callId: call.id, to: m.id });
    this.out.send(m, { t: "incoming", callId: call.id, from: call.caller.id, codecs: call.callerCodecs });
    this.ctx.statusChanged(m);
  }

  /** The ringing call with that ID whose callee is this device in this group, if any. */
  ringingFor(callId: string, group: string, deviceKey: Uint8Array): Call | undefined {
    const call = this.byId.get(callId);
    if (!call || call.state !== "ringing" || call.callee.group !== group || !sameBytes(call.callee.deviceKey, deviceKey)) return undefined;
    return call;
  }

  /** Declined from the ringing notification (the service worker's signed request, checked). */
  declineByPush(callId: string, group: string, deviceKey: Uint8Array): boolean {
    const call = this.ringingFor(callId, group, deviceKey);
    if (!call) return false;
    this.end(call, "declined", call.callee.id);
    return true;
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
    if (this.awaiting.get(memberKey(call.callee)) === call) this.awaiting.delete(memberKey(call.callee));
    // Every push must show something (iOS drops silent ones): the ring becomes "Missed call".
    // A decline came from the callee, who has seen it; an answered call never rang unanswered.
    if (call.pushed) this.ringer?.ended(call, call.state === "ringing" && reason !== "declined");
    this.log.info(`group=${call.caller.group} call ${call.id.slice(0, 8)} ended: ${reason}${by ? ` by ${by}` : ""}`);
    for (const m of [call.caller, call.callee]) {
      if (m.call === call) m.call = null;
      this.out.send(m, by ? { t: "ended", callId: call.id, reason, by } : { t: "ended", callId: call.id, reason });
    }
    for (const m of [call.caller, call.callee]) this.ctx.statusChanged(m);
  }

  /**
   * The member's link dropped: a connected call waits for the resume; a ringing one rings the
   * callee's phone by push when it can, and otherwise cannot wait.
   */
  memberAway(m: Member): void {
    const call = m.call;
    if (call?.state === "ringing") {
      if (call.callee === m && call.awaiting) return;
      if (call.callee === m && this.ringer?.mayRing(call.caller, m)) {
        this.ringFor(call, this.limits.pushRingTimeoutMs);
        this.out.send(call.caller, { t: "outgoing", callId: call.id, to: m.id, pushed: true });
        return this.pushRing(call);
      }
      return this.end(call, "peer-gone", m.id);
    }
    if (call) this.out.send(peerOf(call, m), { t: "peer-away", callId: call.id });
  }

  /**
   * The member came back on a new socket. A call that rang their phone rings here now; another
   * ringing call cannot be handed over (the caller's app saw its peer leave); a connected call is
   * re-announced so the app can pick it up.
   */
  memberBack(m: Member): void {
    const call = m.call;
    if (call?.awaiting && call.callee === m) return this.memberArrived(m);
    if (call?.state === "ringing") return this.end(call, "peer-gone", m.id);
    if (call?.state === "connected") {
      this.out.send(m, connectedMessage(call, m));
      this.out.send(peerOf(call, m), { t: "peer-back", callId: call.id });
    }
  }

  /** Gone for now (grace over). A call ringing their phone waits for the app. */
  memberGone(m: Member): void {
    if (m.call?.awaiting && m.call.callee === m) return;
    if (m.call) this.end(m.call, "peer-gone", m.id);
  }

  /** Off the roster (left, removed by the operator): a call waiting for their app ends too. */
  memberRemoved(group: string, id: string): void {
    const call = this.awaiting.get(`${group}/${id}`);
    if (call) this.end(call, "unavailable", id);
  }

  endAll(reason: EndReason): void {
    for (const call of [...this.byId.values()]) this.end(call, reason);
  }
}

function memberKey(m: Member): string {
  return `${m.group}/${m.id}`;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
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
