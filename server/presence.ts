// Who is in each group: the persistent roster (IDENTITY.md §4) joined with who is connected now.
// Joining is hello v2 (§2–§3): a device-key signature over this socket's challenge, and for a
// private group an HMAC proof made with the invite's joinKey.
//
// Decisions the spec leaves open (docs/IDENTITY-NOTES.md):
// - Order of checks: per-address join budget → message shape (parser) → signature → group
//   policy and invite proof → blocked key → ID collision → roster capacity. Everything before
//   the signature is cheap; failed signatures and proofs draw from a small per-address budget.
// - Refusals of a private group say only "not-invited": never who is in it, nor whether a
//   member ID exists there.
// - An app creates a private group by sending joinKey in its hello for a name that has no
//   group yet; a repeat of that hello with the same joinKey is an ordinary join.
import { timingSafeEqual } from "node:crypto";
import { base64urlBytes } from "../protocol/base64url.ts";
import { helloSignedBytes, joinProof, leaveSignedBytes, verifyDeviceSignature } from "../protocol/identity-v2.ts";
import type { Limits } from "../protocol/limits.ts";
import { memberIdFor } from "../protocol/member-id.ts";
import { PROTOCOL_VERSION, type ClientMessage, type ErrorCode, type MemberInfo, type ServerMessage } from "../protocol/messages.ts";
import type { Calls } from "./calls.ts";
import type { Connection } from "./connection.ts";
import type { GroupPolicy } from "./group-policy.ts";
import type { IpSlots } from "./ip-slots.ts";
import type { JoinGate } from "./join-gate.ts";
import type { Logger } from "./logger.ts";
import { type Member, memberStatus, onlineInfo } from "./member.ts";
import { CLOSE_GROUP_FULL, CLOSE_NORMAL, CLOSE_POLICY, CLOSE_REFUSED, CLOSE_REPLACED, type Outbox } from "./outbox.ts";
import type { GroupRecord, MemberRecord, RosterStore } from "./roster/roster-store.ts";

type Hello = Extract<ClientMessage, { t: "hello" }>;

export class Presence {
  /** Connected or away-within-grace members, by group and ID. */
  private readonly online = new Map<string, Map<string, Member>>();
  /** Roster IDs of groups with someone online, to notice removals made by the CLI. */
  private readonly known = new Map<string, Set<string>>();
  calls!: Calls;
  /** The VAPID public key apps subscribe with, when this server can push. */
  pushKey: string | null = null;

  constructor(
    private readonly limits: Limits,
    private readonly policy: GroupPolicy,
    private readonly store: RosterStore,
    private readonly out: Outbox,
    private readonly log: Logger,
    private readonly ips: IpSlots,
    private readonly gate: JoinGate,
    private readonly version: string,
  ) {}

  counts(): { groups: number; members: number } {
    let members = 0;
    for (const g of this.online.values()) members += g.size;
    return { groups: this.online.size, members };
  }

  find(group: string, id: string): Member | undefined {
    return this.online.get(group)?.get(id);
  }

  /** A roster member who is not connected, as a stand-in a pushed call can ring. */
  absent(group: string, id: string): Member | undefined {
    if (this.find(group, id)) return undefined;
    const r = this.store.member(group, id);
    if (!r) return undefined;
    const d = Buffer.from(r.deviceKey).toString("base64url");
    return { id, group, deviceKey: r.deviceKey, d, name: r.name, conn: null, call: null, graceTimer: null, heldIp: null, kxSent: 0 };
  }

  async hello(conn: Connection, msg: Hello): Promise<void> {
    if (!this.gate.allowJoin(conn.ip)) {
      return this.refuse(conn, "rate-limited", "too many joins from your address; wait a minute", CLOSE_POLICY);
    }
    if (!this.gate.mayTry(conn.ip)) {
      return this.refuse(conn, "rate-limited", "too many failed joins from your address; wait a minute", CLOSE_POLICY);
    }
    conn.helloPending = true;
    try {
      await this.join(conn, msg);
    } finally {
      conn.helloPending = false;
    }
  }

  private async join(conn: Connection, msg: Hello): Promise<void> {
    const d = base64urlBytes(msg.d, 65)!;
    const sig = base64urlBytes(msg.sig, 64)!;
    if (!(await verifyDeviceSignature(d, sig, helloSignedBytes(conn.challenge, conn.group)))) {
      this.gate.recordFailure(conn.ip);
      return this.refuse(conn, "bad-signature", "the hello signature does not verify for this group and challenge", CLOSE_POLICY);
    }
    const id = await memberIdFor(d);
    if (conn.closed || conn.closing) return;

    const admitted = await this.admitToGroup(conn, msg, d, id);
    if (!admitted || conn.closed || conn.closing) return;
    const group = admitted;

    if (this.store.isBlocked(group.name, d)) {
      return this.refuse(conn, "removed", "this device was removed from the group; ask for a new invite to a new group", CLOSE_REFUSED);
    }
    const stored = this.store.member(group.name, id);
    if (stored && !timingSafeEqualBytes(stored.deviceKey, d)) {
      return this.refuse(conn, "id-taken", "another device already has this member ID in this group; reset this app's identity in Settings", CLOSE_REFUSED);
    }
    if (!stored && this.store.memberCount(group.name) >= this.limits.membersPerGroup) {
      return this.refuse(conn, "group-full", `this group already has ${this.limits.membersPerGroup} members`, CLOSE_GROUP_FULL);
    }
    const now = Date.now();
    this.store.saveMember({ group: group.name, id, deviceKey: d, name: msg.name, lastSeen: now });
    this.enter(conn, group, id, d, msg.d, msg.name, now);
  }

  /** Finds or creates the group, or refuses; returns null when refused. */
  private async admitToGroup(conn: Connection, msg: Hello, d: Uint8Array, id: string): Promise<GroupRecord | null> {
    const name = conn.group;
    const offered = msg.joinKey ? base64urlBytes(msg.joinKey, 32)! : null;
    let group = this.store.group(name);
    if (!group) {
      const kind = offered ? "private" : "open";
      if (!this.policy.appMayCreate(kind)) {
        this.gate.recordFailure(conn.ip);
        return this.notInvited(conn);
      }
      if (this.store.groupCount() >= this.limits.groupsPerServer) {
        this.refuse(conn, "too-many-groups", "this server has no room for another group; ask its operator", CLOSE_REFUSED);
        return null;
      }
      this.store.createGroup({ name, kind, joinKey: offered, createdBy: id, createdAt: Date.now() });
      // Another socket may have created it a moment earlier: read back what is stored.
      group = this.store.group(name)!;
      if (group.createdBy === id) this.log.info(`group=${name} created (${kind}) by ${id}`);
    } else if (offered && !(group.joinKey && timingSafeEqualBytes(group.joinKey, offered))) {
      this.refuse(conn, "group-exists", "a group with this name exists already; choose another name", CLOSE_REFUSED);
      return null;
    }
    if (group.kind === "open") {
      if (this.policy.openGroupAllowed(group)) return group;
      this.gate.recordFailure(conn.ip);
      return this.notInvited(conn);
    }
    const proof = msg.proof ? base64urlBytes(msg.proof, 32) : null;
    const expected = await joinProof(group.joinKey!, conn.challenge, d);
    if (!proof || !timingSafeEqualBytes(proof, expected)) {
      this.gate.recordFailure(conn.ip);
      return this.notInvited(conn);
    }
    return group;
  }

  private notInvited(conn: Connection): null {
    this.refuse(conn, "not-invited", "this group needs an invite link; ask someone in it to send you one", CLOSE_REFUSED);
    return null;
  }

  private enter(conn: Connection, group: GroupRecord, id: string, deviceKey: Uint8Array, d: string, name: string, now: number): void {
    let g = this.online.get(group.name);
    if (!g) {
      g = new Map();
      this.online.set(group.name, g);
      this.known.set(group.name, new Set(this.store.members(group.name).map((m) => m.id)));
    }
    this.known.get(group.name)!.add(id);
    const existing = g.get(id);
    if (conn.helloTimer) clearTimeout(conn.helloTimer);
    conn.helloTimer = null;
    if (existing) return this.resume(conn, existing, name, group, now);
    const member: Member = { id, group: group.name, deviceKey, d, name, conn, call: null, graceTimer: null, heldIp: null, kxSent: 0 };
    g.set(id, member);
    conn.member = member;
    this.log.info(`group=${group.name} ${id} joined`);
    this.welcome(member, group, false, now);
    this.broadcast(group.name, { t: "member", member: onlineInfo(member, now) }, member);
    this.calls.memberArrived(member);
  }

  /** Same device key again: a reload, a network change, or another tab. The newest socket wins. */
  private resume(conn: Connection, member: Member, name: string, group: GroupRecord, now: number): void {
    if (member.graceTimer) clearTimeout(member.graceTimer);
    member.graceTimer = null;
    if (member.heldIp !== null) this.ips.release(member.heldIp);
    member.heldIp = null;
    const old = member.conn;
    member.conn = conn;
    conn.member = member;
    if (old) {
      old.member = null;
      this.out.sendTo(old, { t: "bye", reason: "replaced" });
      this.out.close(old, CLOSE_REPLACED, "opened elsewhere");
    }
    const renamed = member.name !== name;
    member.name = name;
    this.log.info(`group=${group.name} ${member.id} ${old ? "replaced its connection" : "resumed"}`);
    this.welcome(member, group, true, now);
    this.calls.memberBack(member);
    if (renamed || !old) this.broadcast(group.name, { t: "member", member: onlineInfo(member, now) }, member);
  }

  private welcome(member: Member, group: GroupRecord, resumed: boolean, now: number): void {
    const l = this.limits;
    this.out.send(member, {
      t: "welcome",
      v: PROTOCOL_VERSION,
      id: member.id,
      group: group.name,
      private: group.kind === "private",
      resumed,
      members: this.roster(group.name, now).filter((m) => m.id !== member.id),
      limits: {
        ringTimeoutMs: l.ringTimeoutMs,
        keyExchangeTimeoutMs: l.keyExchangeTimeoutMs,
        maxFrameBytes: l.maxFrameBytes,
        maxTextBytes: l.maxTextBytes,
        mediaFramesPerSecond: l.mediaFramesPerSecond,
        maxKxBodyChars: l.maxKxBodyChars,
        pushRingTimeoutMs: l.pushRingTimeoutMs,
      },
      version: this.version,
      ...(this.pushKey ? { push: { key: this.pushKey } } : {}),
    });
  }

  /** The whole roster as the app shows it: online first, then by last seen. */
  private roster(group: string, now: number): MemberInfo[] {
    const g = this.online.get(group);
    const ringable = this.pushKey ? this.store.pushableMembers(group) : new Set<string>();
    const list = this.store.members(group).map((r) => {
      const m = g?.get(r.id);
      return m ? onlineInfo(m, now) : offlineInfo(r, ringable.has(r.id));
    });
    return list.sort((a, b) => Number(b.online) - Number(a.online) || b.lastSeen - a.lastSeen);
  }

  rename(me: Member, name: string): void {
    if (name === me.name) return;
    me.name = name;
    const now = Date.now();
    this.store.saveMember({ group: me.group, id: me.id, deviceKey: me.deviceKey, name, lastSeen: now });
    this.broadcast(me.group, { t: "member", member: onlineInfo(me, now) });
  }

  /** A signed leave (§4): the member is gone from the roster, not just offline. */
  async leave(conn: Connection, sigB64: string): Promise<void> {
    const me = conn.member;
    if (!me) return;
    const ok = await verifyDeviceSignature(me.deviceKey, base64urlBytes(sigB64, 64)!, leaveSignedBytes(conn.challenge, me.group));
    if (!ok) return this.out.error(conn, "bad-signature", "the leave signature does not verify", "leave");
    // The app closes its socket right after sending the leave; a valid leave counts even if
    // the socket is gone by now (or the member went on in another tab: it leaves there too).
    if (!this.store.removeMember(me.group, me.id, false)) return;
    this.log.info(`group=${me.group} ${me.id} left the group`);
    this.evict(me, null, CLOSE_NORMAL, "left the group");
  }

  /** The socket closed. Resumable drops keep the member (and its call) for the grace period. */
  dropped(conn: Connection, resumable: boolean): boolean {
    const me = conn.member;
    if (!me || me.conn !== conn) return false;
    me.conn = null;
    conn.member = null;
    if (!resumable || this.limits.resumeGraceMs <= 0) {
      this.offline(me);
      return false;
    }
    me.heldIp = conn.ip;
    this.calls.memberAway(me);
    me.graceTimer = setTimeout(() => this.offline(me), this.limits.resumeGraceMs);
    return true;
  }

  private offline(me: Member): void {
    if (me.graceTimer) clearTimeout(me.graceTimer);
    me.graceTimer = null;
    if (me.heldIp !== null) this.ips.release(me.heldIp);
    me.heldIp = null;
    this.calls.memberGone(me);
    const g = this.online.get(me.group);
    if (!g || g.get(me.id) !== me) return;
    g.delete(me.id);
    const now = Date.now();
    this.store.touch(me.group, me.id, now);
    this.log.info(`group=${me.group} ${me.id} went offline`);
    const stored = this.store.member(me.group, me.id);
    const ringable = this.pushKey !== null && this.store.pushSubscriptions(me.group, me.id).length > 0;
    if (stored) this.broadcast(me.group, { t: "member", member: offlineInfo(stored, ringable) });
    if (g.size === 0) {
      this.online.delete(me.group);
      this.known.delete(me.group);
    }
  }

  /** Gone from the roster (left, removed, group deleted): tell its socket and the group. */
  private evict(me: Member, bye: "removed" | "group-deleted" | null, code: number, reason: string): void {
    const conn = me.conn;
    if (conn) {
      if (bye) this.out.sendTo(conn, { t: "bye", reason: bye });
      this.dropped(conn, false);
      this.out.close(conn, code, reason);
    } else this.offline(me);
    this.calls.memberRemoved(me.group, me.id);
    this.known.get(me.group)?.delete(me.id);
    this.broadcast(me.group, { t: "removed", id: me.id });
  }

  statusChanged(m: Member): void {
    if (this.online.get(m.group)?.get(m.id) === m) this.broadcast(m.group, { t: "status", id: m.id, status: memberStatus(m) });
  }

  /** The roster changed outside this process (the operator's CLI): apply removals now. */
  reconcile(): void {
    for (const [name, g] of [...this.online]) {
      if (!this.store.group(name)) {
        this.log.info(`group=${name} deleted by the operator`);
        for (const m of [...g.values()]) this.evict(m, "group-deleted", CLOSE_REFUSED, "group deleted");
        continue;
      }
      const now = new Set(this.store.members(name).map((m) => m.id));
      for (const id of [...(this.known.get(name) ?? [])]) {
        if (now.has(id)) continue;
        const m = g.get(id);
        this.log.info(`group=${name} ${id} removed by the operator`);
        if (m) this.evict(m, "removed", CLOSE_REFUSED, "removed");
        else {
          this.calls.memberRemoved(name, id);
          this.known.get(name)?.delete(id);
          this.broadcast(name, { t: "removed", id });
        }
      }
    }
  }

  /** Members online now count as seen now, so a long connection is never pruned. */
  prune(): number {
    const now = Date.now();
    for (const g of this.online.values()) for (const m of g.values()) this.store.touch(m.group, m.id, now);
    return this.store.prune(now - this.limits.pruneAfterDays * 86_400_000);
  }

  shutdown(): void {
    const now = Date.now();
    for (const g of this.online.values()) {
      for (const m of g.values()) {
        if (m.graceTimer) clearTimeout(m.graceTimer);
        this.store.touch(m.group, m.id, now);
      }
    }
    this.online.clear();
    this.known.clear();
  }

  private refuse(conn: Connection, code: ErrorCode, message: string, closeCode: number): void {
    this.log.info(`group=${conn.group} join refused: ${code}`);
    this.out.error(conn, code, message, "hello");
    this.out.close(conn, closeCode, code);
  }

  private broadcast(group: string, msg: ServerMessage, except?: Member): void {
    const g = this.online.get(group);
    if (!g) return;
    for (const m of g.values()) if (m !== except) this.out.send(m, msg);
  }
}

function offlineInfo(r: MemberRecord, ringable: boolean): MemberInfo {
  const info: MemberInfo = { id: r.id, d: Buffer.from(r.deviceKey).toString("base64url"), name: r.name, online: false, status: "available", lastSeen: r.lastSeen };
  return ringable ? { ...info, ringable: true } : info;
}

function timingSafeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
