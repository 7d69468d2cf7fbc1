// The WebSocket hub: groups, presence, the 1:1 call state machine, the opaque key-exchange
// relay and the ciphertext media relay. All state lives in memory; nothing about a
// conversation is stored.
import { timingSafeEqual } from "node:crypto";
import type { Limits } from "../protocol/limits.ts";
import { randomMemberId } from "../protocol/member-id.ts";
import { readCallHandle } from "../protocol/media-header.ts";
import {
  MessageError,
  PROTOCOL_VERSION,
  parseClientMessage,
  type ClientMessage,
  type EndReason,
  type ErrorCode,
  type ServerMessage,
} from "../protocol/messages.ts";
import { type Call, peerOf, randomCallId, randomHandle, roleOf } from "./call.ts";
import type { Connection, Socket } from "./connection.ts";
import { newMediaCounters, type MediaCounters } from "./counters.ts";
import type { Logger } from "./logger.ts";
import { type Member, memberStatus } from "./member.ts";
import { TokenBucket } from "./rate-limiter.ts";

const HELLO_TIMEOUT_MS = 10_000;
/** Refusals in 10 s after which a client is treated as flooding and disconnected. */
const FLOOD_CONTROL_REFUSALS = 200;
const FLOOD_MEDIA_REFUSALS = 600;
/** Control messages still queue under backpressure; past this the client is hopeless. */
const MAX_CONTROL_BUFFERED = 1024 * 1024;
const DEFAULT_CODECS = ["pcmu16"];
/** commit/pub, reveal, confirm — plus slack for a retry; more is abuse of the relay. */
const MAX_KX_PER_CALL = 8;
/**
 * Only these closes keep a member for a resume: a dropped network (1005/1006) and the app's
 * own "page hidden, back soon" (4100). Clean closes and the server's policy closes are final.
 */
const RESUMABLE_CLOSE_CODES = new Set([1005, 1006, 4100]);

export const CLOSE_POLICY = 1008;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_HELLO_TIMEOUT = 4000;
export const CLOSE_REPLACED = 4001;
export const CLOSE_GROUP_FULL = 4003;

export interface HubCounts {
  groups: number;
  members: number;
  calls: number;
  connections: number;
}

export class Hub {
  private readonly groups = new Map<string, Map<string, Member>>();
  private readonly callsById = new Map<string, Call>();
  private readonly callsByHandle = new Map<number, Call>();
  private readonly connections = new Set<Connection>();
  private readonly perIp = new Map<string, number>();
  readonly media: MediaCounters = newMediaCounters();
  /** Sees every relayed frame; tests use it to prove the relay only ever carried ciphertext. */
  relayTap: ((frame: Uint8Array) => void) | null = null;

  constructor(
    private readonly limits: Limits,
    private readonly log: Logger,
    private readonly version: string,
  ) {}

  counts(): HubCounts {
    let members = 0;
    for (const g of this.groups.values()) members += g.size;
    return { groups: this.groups.size, members, calls: this.callsById.size, connections: this.connections.size };
  }

  /** Checked at upgrade time, before a socket exists, so the refusal costs almost nothing. */
  canAcceptFrom(ip: string): boolean {
    return (this.perIp.get(ip) ?? 0) < this.limits.connectionsPerIp;
  }

  open(socket: Socket, group: string, ip: string): Connection {
    const conn: Connection = {
      socket,
      group,
      ip,
      member: null,
      helloTimer: null,
      control: new TokenBucket(this.limits.controlMessagesPerSecond, this.limits.controlMessagesPerSecond * 2),
      media: new TokenBucket(this.limits.mediaFramesPerSecond, Math.max(10, this.limits.mediaFramesPerSecond / 3)),
      lastErrorAt: -Infinity,
      closing: false,
      closed: false,
    };
    this.connections.add(conn);
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    conn.helloTimer = setTimeout(() => {
      this.sendError(conn, "hello-required", "send hello first");
      this.closeConn(conn, CLOSE_HELLO_TIMEOUT, "hello timeout");
    }, HELLO_TIMEOUT_MS);
    return conn;
  }

  text(conn: Connection, text: string): void {
    if (conn.closed || conn.closing) return;
    if (!conn.control.take()) {
      if (conn.control.refusedInWindow > FLOOD_CONTROL_REFUSALS) {
        this.log.warn(`group=${conn.group} closing a connection that floods control messages`);
        return this.closeConn(conn, CLOSE_POLICY, "rate limit");
      }
      return this.sendError(conn, "rate-limited", `more than ${this.limits.controlMessagesPerSecond} messages per second`, undefined, true);
    }
    if (Buffer.byteLength(text) > this.limits.maxTextBytes) {
      return this.sendError(conn, "too-large", `text messages are limited to ${this.limits.maxTextBytes} bytes`);
    }
    let msg: ClientMessage;
    try {
      msg = parseClientMessage(text, this.limits.maxKxBodyChars);
    } catch (e) {
      if (e instanceof MessageError) return this.sendError(conn, e.code, e.message, e.ref);
      throw e;
    }
    if (msg.t === "hello") return this.hello(conn, msg.resume);
    if (msg.t === "ping") return this.sendTo(conn, { t: "pong" });
    const me = conn.member;
    if (!me) return this.sendError(conn, "hello-required", "send hello first", msg.t);
    switch (msg.t) {
      case "call":
        return this.startCall(me, msg.to, msg.codecs ?? DEFAULT_CODECS);
      case "answer":
        return this.withCall(me, msg.callId, msg.t, (c) => this.answer(me, c, msg.codecs ?? DEFAULT_CODECS));
      case "reject":
        return this.withCall(me, msg.callId, msg.t, (c) => this.reject(me, c));
      case "cancel":
        return this.withCall(me, msg.callId, msg.t, (c) => this.cancel(me, c));
      case "hangup":
        return this.withCall(me, msg.callId, msg.t, (c) => this.endCall(c, c.state === "ringing" ? (c.caller === me ? "cancelled" : "declined") : "hangup", me.id));
      case "kx":
        return this.withCall(me, msg.callId, msg.t, (c) => {
          if (c.state !== "connected") return this.sendError(conn, "not-allowed", "key exchange starts after the call is answered", "kx");
          if (++me.kxSent > MAX_KX_PER_CALL) return this.sendError(conn, "not-allowed", "too many key-exchange messages for this call", "kx", true);
          // Opaque by design: the body is neither parsed nor logged (PROTOCOL.md §1, §8).
          this.send(peerOf(c, me), { t: "kx", callId: c.id, body: msg.body });
        });
    }
  }

  binary(conn: Connection, data: Uint8Array): void {
    if (conn.closed || conn.closing) return;
    const me = conn.member;
    if (!conn.media.take()) {
      this.media.droppedRate++;
      if (conn.media.refusedInWindow > FLOOD_MEDIA_REFUSALS) {
        this.log.warn(`group=${conn.group} closing a connection that floods media frames`);
        this.closeConn(conn, CLOSE_POLICY, "media rate limit");
      }
      return;
    }
    if (data.byteLength > this.limits.maxFrameBytes) {
      this.media.droppedMalformed++;
      return this.sendError(conn, "too-large", `media frames are limited to ${this.limits.maxFrameBytes} bytes`, undefined, true);
    }
    const handle = readCallHandle(data);
    if (handle === null) {
      this.media.droppedMalformed++;
      return this.sendError(conn, "bad-frame", "binary messages must be media frames (PROTOCOL.md §6)", undefined, true);
    }
    const call = this.callsByHandle.get(handle);
    if (!call) {
      this.media.droppedUnknownCall++;
      return;
    }
    if (!me || call.state !== "connected" || (call.caller !== me && call.callee !== me)) {
      this.media.droppedNotMember++;
      return;
    }
    const to = peerOf(call, me).conn;
    if (!to || to.socket.bufferedAmount() > this.limits.maxBufferedBytes) {
      this.media.droppedBackpressure++;
      return;
    }
    // Verbatim: header and ciphertext are the peer's AES-GCM input; a changed byte fails auth.
    if (to.socket.sendBinary(data) === 0) this.media.droppedBackpressure++;
    else {
      this.media.relayed++;
      this.relayTap?.(data);
    }
  }

  close(conn: Connection, code: number): void {
    if (conn.closed) return;
    conn.closed = true;
    const me = conn.member;
    const mine = me !== null && me.conn === conn;
    const resumable = mine && RESUMABLE_CLOSE_CODES.has(code) && this.limits.resumeGraceMs > 0;
    this.forget(conn, resumable);
    if (!mine) return;
    me.conn = null;
    if (!resumable) return this.removeMember(me);
    me.heldIp = conn.ip;
    if (me.call?.state === "ringing") this.endCall(me.call, "peer-gone", me.id);
    if (me.call) this.send(peerOf(me.call, me), { t: "peer-away", callId: me.call.id });
    me.graceTimer = setTimeout(() => this.removeMember(me), this.limits.resumeGraceMs);
  }

  /** SIGTERM: tell everyone, then close; calls end with the sockets. */
  shutdown(): void {
    // Calls end first so both people read "server shutting down", not "the other person left".
    for (const call of [...this.callsById.values()]) this.endCall(call, "server-shutdown");
    for (const conn of [...this.connections]) {
      this.sendTo(conn, { t: "bye", reason: "shutdown" });
      this.closeConn(conn, CLOSE_GOING_AWAY, "server shutting down");
    }
    for (const g of this.groups.values()) for (const m of g.values()) if (m.graceTimer) clearTimeout(m.graceTimer);
    this.groups.clear();
  }

  // ---- presence ------------------------------------------------------------------------

  private hello(conn: Connection, resume: string | undefined): void {
    if (conn.member) return this.sendError(conn, "already-hello", "hello was already accepted", "hello");
    if (conn.helloTimer) clearTimeout(conn.helloTimer);
    conn.helloTimer = null;
    const group = this.groups.get(conn.group);
    const resumed = resume && group ? findByToken(group, resume) : undefined;
    if (resumed) return this.resume(conn, resumed);
    if ((group?.size ?? 0) >= this.limits.membersPerGroup) {
      this.sendError(conn, "group-full", `this group already has ${this.limits.membersPerGroup} people online`, "hello");
      return this.closeConn(conn, CLOSE_GROUP_FULL, "group full");
    }
    const g = group ?? new Map<string, Member>();
    if (!group) this.groups.set(conn.group, g);
    let id = randomMemberId();
    while (g.has(id)) id = randomMemberId();
    const member: Member = { id, group: conn.group, token: randomToken(), conn, call: null, graceTimer: null, heldIp: null, kxSent: 0 };
    const others = [...g.values()].map((m) => ({ id: m.id, status: memberStatus(m) }));
    g.set(id, member);
    conn.member = member;
    this.welcome(member, others, false);
    this.broadcast(conn.group, { t: "joined", member: { id, status: "available" } }, member);
  }

  private resume(conn: Connection, member: Member): void {
    if (member.graceTimer) clearTimeout(member.graceTimer);
    member.graceTimer = null;
    this.releaseHeldIp(member);
    // A ringing call cannot be handed to the new tab (it never saw the callId); end it as a
    // dropped connection would, rather than leave the callee ringing for nobody.
    if (member.call?.state === "ringing") this.endCall(member.call, "peer-gone", member.id);
    const old = member.conn;
    member.conn = conn;
    conn.member = member;
    if (old) {
      old.member = null;
      this.closeConn(old, CLOSE_REPLACED, "resumed elsewhere");
    }
    const others = [...this.groups.get(member.group)!.values()].filter((m) => m !== member).map((m) => ({ id: m.id, status: memberStatus(m) }));
    this.welcome(member, others, true);
    const call = member.call;
    if (call?.state === "connected") {
      const peer = peerOf(call, member);
      this.send(member, connectedMessage(call, member));
      this.send(peer, { t: "peer-back", callId: call.id });
    }
  }

  private welcome(member: Member, members: { id: string; status: ReturnType<typeof memberStatus> }[], resumed: boolean): void {
    const l = this.limits;
    this.send(member, {
      t: "welcome",
      v: PROTOCOL_VERSION,
      id: member.id,
      group: member.group,
      token: member.token,
      resumed,
      members,
      limits: {
        ringTimeoutMs: l.ringTimeoutMs,
        keyExchangeTimeoutMs: l.keyExchangeTimeoutMs,
        maxFrameBytes: l.maxFrameBytes,
        maxTextBytes: l.maxTextBytes,
        mediaFramesPerSecond: l.mediaFramesPerSecond,
        maxKxBodyChars: l.maxKxBodyChars,
      },
      version: this.version,
    });
  }

  private removeMember(member: Member): void {
    if (member.graceTimer) clearTimeout(member.graceTimer);
    member.graceTimer = null;
    this.releaseHeldIp(member);
    if (member.call) this.endCall(member.call, "peer-gone", member.id);
    const g = this.groups.get(member.group);
    if (!g || g.get(member.id) !== member) return;
    g.delete(member.id);
    if (g.size === 0) this.groups.delete(member.group);
    else this.broadcast(member.group, { t: "left", id: member.id });
  }

  private broadcastStatus(m: Member): void {
    this.broadcast(m.group, { t: "status", id: m.id, status: memberStatus(m) });
  }

  // ---- calls ---------------------------------------------------------------------------

  private startCall(me: Member, to: string, codecs: string[]): void {
    if (to === me.id) return this.sendError(me.conn!, "self-call", "you cannot call yourself", "call");
    if (me.call) return this.sendError(me.conn!, "already-in-call", "finish the current call first", "call");
    const callee = this.groups.get(me.group)?.get(to);
    const callId = randomCallId();
    if (!callee || !callee.conn) {
      this.send(me, { t: "outgoing", callId, to });
      return this.send(me, { t: "ended", callId, reason: "unavailable" });
    }
    if (callee.call) {
      this.send(me, { t: "outgoing", callId, to });
      return this.send(me, { t: "ended", callId, reason: "busy" });
    }
    let handle = randomHandle();
    while (this.callsByHandle.has(handle)) handle = randomHandle();
    const call: Call = { id: callId, handle, caller: me, callee, state: "ringing", ringTimer: null, callerCodecs: codecs, calleeCodecs: [] };
    call.ringTimer = setTimeout(() => this.endCall(call, "no-answer"), this.limits.ringTimeoutMs);
    this.callsById.set(callId, call);
    this.callsByHandle.set(handle, call);
    me.call = call;
    callee.call = call;
    me.kxSent = 0;
    callee.kxSent = 0;
    this.send(me, { t: "outgoing", callId, to });
    // Sending can close a hopeless socket and end the call; never ring for a call that is gone.
    if (this.callsById.get(callId) !== call) return;
    this.send(callee, { t: "incoming", callId, from: me.id, codecs });
    this.broadcastStatus(me);
    this.broadcastStatus(callee);
  }

  private withCall(me: Member, callId: string, ref: string, fn: (c: Call) => void): void {
    const call = this.callsById.get(callId);
    if (!call || (call.caller !== me && call.callee !== me)) {
      return this.sendError(me.conn!, "no-such-call", "that call does not exist or has ended", ref);
    }
    fn(call);
  }

  private answer(me: Member, call: Call, codecs: string[]): void {
    if (call.callee !== me || call.state !== "ringing") return this.sendError(me.conn!, "not-allowed", "only the person being called can answer a ringing call", "answer");
    if (call.ringTimer) clearTimeout(call.ringTimer);
    call.ringTimer = null;
    call.state = "connected";
    call.calleeCodecs = codecs;
    this.send(call.caller, connectedMessage(call, call.caller));
    this.send(call.callee, connectedMessage(call, call.callee));
    this.broadcastStatus(call.caller);
    this.broadcastStatus(call.callee);
  }

  private reject(me: Member, call: Call): void {
    if (call.callee !== me || call.state !== "ringing") return this.sendError(me.conn!, "not-allowed", "only the person being called can decline a ringing call", "reject");
    this.endCall(call, "declined", me.id);
  }

  private cancel(me: Member, call: Call): void {
    if (call.caller !== me || call.state !== "ringing") return this.sendError(me.conn!, "not-allowed", "only the caller can cancel a ringing call", "cancel");
    this.endCall(call, "cancelled", me.id);
  }

  private endCall(call: Call, reason: EndReason, by?: string): void {
    if (this.callsById.get(call.id) !== call) return;
    if (call.ringTimer) clearTimeout(call.ringTimer);
    this.callsById.delete(call.id);
    this.callsByHandle.delete(call.handle);
    for (const m of [call.caller, call.callee]) {
      if (m.call === call) m.call = null;
      this.send(m, by ? { t: "ended", callId: call.id, reason, by } : { t: "ended", callId: call.id, reason });
    }
    for (const m of [call.caller, call.callee]) if (this.groups.get(m.group)?.get(m.id) === m) this.broadcastStatus(m);
  }

  // ---- sending -------------------------------------------------------------------------

  private send(m: Member, msg: ServerMessage): void {
    if (m.conn) this.sendTo(m.conn, msg);
  }

  private sendTo(conn: Connection, msg: ServerMessage): void {
    if (conn.closed || conn.closing) return;
    if (conn.socket.bufferedAmount() > MAX_CONTROL_BUFFERED) return this.closeConn(conn, CLOSE_POLICY, "not reading");
    conn.socket.sendText(JSON.stringify(msg));
  }

  private broadcast(group: string, msg: ServerMessage, except?: Member): void {
    const g = this.groups.get(group);
    if (!g) return;
    for (const m of g.values()) if (m !== except) this.send(m, msg);
  }

  /** Replies to a flood (rate limits, bad binary frames) are throttled, or we would flood back. */
  private sendError(conn: Connection, code: ErrorCode, message: string, ref?: string, throttled = false): void {
    if (throttled) {
      const now = performance.now();
      if (now - conn.lastErrorAt < 1000) return;
      conn.lastErrorAt = now;
    }
    this.sendTo(conn, ref ? { t: "error", code, message, ref } : { t: "error", code, message });
  }

  /**
   * Bun runs the close handler synchronously inside ws.close(), which would re-enter the hub in
   * the middle of whatever operation decided to close; the close waits for a microtask instead.
   */
  private closeConn(conn: Connection, code: number, reason: string): void {
    if (conn.closed || conn.closing) return;
    conn.closing = true;
    queueMicrotask(() => conn.socket.close(code, reason));
  }

  /** keepIpSlot: the member goes into its resume grace and keeps the slot until it is removed. */
  private forget(conn: Connection, keepIpSlot = false): void {
    if (conn.helloTimer) clearTimeout(conn.helloTimer);
    this.connections.delete(conn);
    if (!keepIpSlot) this.releaseIp(conn.ip);
  }

  private releaseHeldIp(m: Member): void {
    if (m.heldIp !== null) this.releaseIp(m.heldIp);
    m.heldIp = null;
  }

  private releaseIp(ip: string): void {
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
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

function randomToken(): string {
  const b = new Uint8Array(24);
  crypto.getRandomValues(b);
  return Buffer.from(b).toString("base64url");
}

function findByToken(group: Map<string, Member>, token: string): Member | undefined {
  const want = Buffer.from(token);
  for (const m of group.values()) {
    const have = Buffer.from(m.token);
    if (have.length === want.length && timingSafeEqual(have, want)) return m;
  }
  return undefined;
}
