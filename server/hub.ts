// The WebSocket hub: the entry points for every socket event. It owns connections and their
// rate limits, and hands messages to the three parts that do the work — presence (who is in a
// group, joining, the roster), calls (the call state machine and key-exchange relay) and the
// media relay (ciphertext, verbatim).
import { declineSignedBytes, verifyDeviceSignature } from "../protocol/identity-v2.ts";
import type { Limits } from "../protocol/limits.ts";
import { MessageError, parseClientMessage, type ClientMessage } from "../protocol/messages.ts";
import { Calls } from "./calls.ts";
import type { Connection, Socket } from "./connection.ts";
import type { MediaCounters } from "./counters.ts";
import { GroupPolicy, type GroupPolicyName } from "./group-policy.ts";
import { IpSlots } from "./ip-slots.ts";
import { JoinGate } from "./join-gate.ts";
import type { Logger } from "./logger.ts";
import { MediaRelay } from "./media-relay.ts";
import { CLOSE_GOING_AWAY, CLOSE_HELLO_TIMEOUT, CLOSE_POLICY, Outbox } from "./outbox.ts";
import { Presence } from "./presence.ts";
import { type EndpointCheck, PushRegistry } from "./push-registry.ts";
import { type PushDelivery, PushRinger } from "./push-ringer.ts";
import { TokenBucket } from "./rate-limiter.ts";
import type { RosterStore } from "./roster/roster-store.ts";

export { CLOSE_GOING_AWAY, CLOSE_GROUP_FULL, CLOSE_HELLO_TIMEOUT, CLOSE_POLICY, CLOSE_REFUSED, CLOSE_REPLACED } from "./outbox.ts";

const HELLO_TIMEOUT_MS = 10_000;
/** Refusals in 10 s after which a client is treated as flooding and disconnected. */
const FLOOD_CONTROL_REFUSALS = 200;
const FLOOD_MEDIA_REFUSALS = 600;
/**
 * Only these closes keep a member for a resume: a dropped network (1005/1006), the app's own
 * "page hidden, back soon" (4100), and "going away" (1001): the app's socket lives in a worker
 * (pwa/link/), and a page that is hidden, reloaded or put in the back/forward cache ends that
 * worker, whose socket the browser then closes with 1001 — often before the worker could send
 * 4100. Clean closes (1000: a signed leave, leaving the group) and the server's policy closes
 * are final.
 */
const RESUMABLE_CLOSE_CODES = new Set([1001, 1005, 1006, 4100]);

export interface HubCounts {
  groups: number;
  members: number;
  calls: number;
  connections: number;
}

export interface HubOptions {
  limits: Limits;
  log: Logger;
  version: string;
  roster: RosterStore;
  groupPolicy?: GroupPolicyName;
  /** Web Push (issue #9): the sender, the VAPID public key apps subscribe with, the endpoint guard. */
  push?: { delivery: PushDelivery; publicKey: string; checkEndpoint: EndpointCheck };
}

export class Hub {
  /** shutdown() ran: every close from now on is final. */
  private stopping = false;
  private readonly connections = new Set<Connection>();
  private readonly ips: IpSlots;
  private readonly out = new Outbox();
  private readonly limits: Limits;
  private readonly log: Logger;
  readonly presence: Presence;
  readonly calls: Calls;
  readonly relay: MediaRelay;
  readonly pushes: PushRegistry;
  readonly ringer: PushRinger | null;

  constructor(opts: HubOptions) {
    this.limits = opts.limits;
    this.log = opts.log;
    this.ips = new IpSlots(opts.limits.connectionsPerIp);
    const gate = new JoinGate(opts.limits.joinsPerIpPerMinute, opts.limits.failedJoinsPerIpPerMinute);
    const policy = new GroupPolicy(opts.groupPolicy ?? "open");
    this.presence = new Presence(opts.limits, policy, opts.roster, this.out, opts.log, this.ips, gate, opts.version);
    this.calls = new Calls(opts.limits, this.out, opts.log, {
      findMember: (g, id) => this.presence.find(g, id),
      statusChanged: (m) => this.presence.statusChanged(m),
      absentMember: (g, id) => this.presence.absent(g, id),
    });
    this.presence.calls = this.calls;
    this.ringer = opts.push ? new PushRinger(opts.push.delivery, opts.roster, opts.limits, opts.log) : null;
    this.calls.ringer = this.ringer;
    this.presence.pushKey = opts.push?.publicKey ?? null;
    this.pushes = new PushRegistry(opts.roster, opts.push?.checkEndpoint ?? null, this.out, opts.log);
    this.relay = new MediaRelay(opts.limits, this.calls, this.out);
  }

  get media(): MediaCounters {
    return this.relay.counters;
  }

  /** Sees every relayed frame; tests use it to prove the relay only ever carried ciphertext. */
  set relayTap(fn: ((frame: Uint8Array) => void) | null) {
    this.relay.tap = fn;
  }

  counts(): HubCounts {
    return { ...this.presence.counts(), calls: this.calls.count, connections: this.connections.size };
  }

  canAcceptFrom(ip: string): boolean {
    return this.ips.canAccept(ip);
  }

  open(socket: Socket, group: string, ip: string): Connection {
    const challenge = crypto.getRandomValues(new Uint8Array(32));
    const conn: Connection = {
      socket,
      group,
      ip,
      challenge,
      member: null,
      helloPending: false,
      helloTimer: null,
      control: new TokenBucket(this.limits.controlMessagesPerSecond, this.limits.controlMessagesPerSecond * 2),
      media: new TokenBucket(this.limits.mediaFramesPerSecond, Math.max(10, this.limits.mediaBurstFrames)),
      lastErrorAt: -Infinity,
      closing: false,
      closed: false,
    };
    this.connections.add(conn);
    this.ips.take(ip);
    conn.helloTimer = setTimeout(() => {
      this.out.error(conn, "hello-required", "send hello first");
      this.out.close(conn, CLOSE_HELLO_TIMEOUT, "hello timeout");
    }, HELLO_TIMEOUT_MS);
    this.out.sendTo(conn, { t: "challenge", n: Buffer.from(challenge).toString("base64url") });
    return conn;
  }

  text(conn: Connection, text: string): void {
    if (conn.closed || conn.closing) return;
    if (!conn.control.take()) {
      if (conn.control.refusedInWindow > FLOOD_CONTROL_REFUSALS) {
        this.log.warn(`group=${conn.group} closing a connection that floods control messages`);
        return this.out.close(conn, CLOSE_POLICY, "rate limit");
      }
      return this.out.error(conn, "rate-limited", `more than ${this.limits.controlMessagesPerSecond} messages per second`, undefined, true);
    }
    if (Buffer.byteLength(text) > this.limits.maxTextBytes) {
      return this.out.error(conn, "too-large", `text messages are limited to ${this.limits.maxTextBytes} bytes`);
    }
    let msg: ClientMessage;
    try {
      msg = parseClientMessage(text, this.limits.maxKxBodyChars);
    } catch (e) {
      if (e instanceof MessageError) return this.out.error(conn, e.code, e.message, e.ref);
      throw e;
    }
    if (msg.t === "ping") return this.out.sendTo(conn, { t: "pong" });
    if (msg.t === "hello") {
      if (conn.member || conn.helloPending) return this.out.error(conn, "already-hello", "hello was already accepted", "hello");
      return void this.presence.hello(conn, msg).catch((e) => this.fault(conn, e));
    }
    const me = conn.member;
    if (!me) return this.out.error(conn, "hello-required", "send hello first", msg.t);
    switch (msg.t) {
      case "rename":
        return this.presence.rename(me, msg.name);
      case "leave":
        return void this.presence.leave(conn, msg.sig).catch((e) => this.fault(conn, e));
      case "push-subscribe":
        return this.pushes.subscribe(me, msg.sub);
      case "push-unsubscribe":
        return this.pushes.unsubscribe(me);
      default:
        return this.calls.handle(me, msg);
    }
  }

  binary(conn: Connection, data: Uint8Array): void {
    if (conn.closed || conn.closing) return;
    if (!conn.media.take()) {
      this.relay.counters.droppedRate++;
      if (conn.media.refusedInWindow > FLOOD_MEDIA_REFUSALS) {
        this.log.warn(`group=${conn.group} closing a connection that floods media frames`);
        this.out.close(conn, CLOSE_POLICY, "media rate limit");
      }
      return;
    }
    this.relay.relay(conn, data);
  }

  close(conn: Connection, code: number): void {
    if (conn.closed) return;
    conn.closed = true;
    if (conn.helloTimer) clearTimeout(conn.helloTimer);
    this.connections.delete(conn);
    // The server's own shutdown closes with 1001 too; nobody is coming back to this process.
    const keptSlot = this.presence.dropped(conn, !this.stopping && RESUMABLE_CLOSE_CODES.has(code));
    // A member away within its grace keeps the address's slot until it is gone for good.
    if (!keptSlot) this.ips.release(conn.ip);
  }

  /**
   * "Decline" on the ringing notification: the service worker cannot open a socket, so it signs
   * the refusal with the device key (declineSignedBytes). False for anything that does not match
   * a call ringing that device — the answer never says which part did not.
   */
  async declineByPush(group: string, callId: string, deviceKey: Uint8Array, sig: Uint8Array): Promise<boolean> {
    // The cheap lookup first: only a request naming a ringing call and its callee's key (a
    // 128-bit call ID nobody else was sent) costs a signature check.
    if (!this.calls.ringingFor(callId, group, deviceKey)) return false;
    if (!(await verifyDeviceSignature(deviceKey, sig, declineSignedBytes(callId, group)))) return false;
    return this.calls.declineByPush(callId, group, deviceKey);
  }

  /** The roster changed outside this process (the operator's CLI). */
  rosterChanged(): void {
    this.presence.reconcile();
  }

  /** SIGTERM: tell everyone, then close; calls end with the sockets. */
  shutdown(): void {
    this.stopping = true;
    // Calls end first so both people read "server shutting down", not "the other person left".
    this.calls.endAll("server-shutdown");
    for (const conn of [...this.connections]) {
      this.out.sendTo(conn, { t: "bye", reason: "shutdown" });
      this.out.close(conn, CLOSE_GOING_AWAY, "server shutting down");
    }
    this.presence.shutdown();
  }

  /** An async handler failed: close only that socket, as the listener does for sync faults. */
  private fault(conn: Connection, e: unknown): void {
    this.log.error(`group=${conn.group} websocket handler failed: ${(e as Error).name}: ${(e as Error).message}`);
    this.out.close(conn, 1011, "internal error");
  }
}
