// Rings a closed app by Web Push (issue #9): one encrypted push to each of the called member's
// device subscriptions, and the missed-call push that replaces it when the call stops ringing
// unanswered. The sending itself (RFC 8291 encryption, VAPID, the SSRF-guarded HTTPS client) is
// server/push; this file decides when and what.
//
// Decisions (docs/PUSH.md):
// - Topic = the callId (32 hex characters, inside RFC 8030's 32-character base64url limit), so a
//   missed-call push still queued at the push service replaces the ring instead of following it.
// - TTL: a ring lives as long as the call rings; a missed call for a day (nobody wants to hear
//   about a call from last week the next time the phone comes online).
// - A ring nobody could deliver (every subscription failed) ends the call as "unavailable" at
//   once instead of letting the caller listen to 45 s of ringing that reaches no phone; such a
//   call sends no missed-call push either (it would fail the same way).
// - The missed-call push is sent only after the ring's own send has finished, so it can never
//   overtake the ring and leave a live "Incoming call" for a call that is over.
// - Budgets: rings one member may cause (pushesPerCallerPerMinute), rings one caller may send
//   one callee (pushesPerCalleePerMinute), and three times that for one callee from everyone —
//   so one member calling and cancelling cannot use up everybody else's way to reach someone.
//   All are checked before any is taken.
// - Push services answering 404/410 drop that subscription (RFC 8030 §7.3): the app refreshes
//   its subscription on every start, so a live device comes back by itself.
import type { Limits } from "../protocol/limits.ts";
import type { PushKind, PushPayload } from "../protocol/push-payload.ts";
import type { Call } from "./call.ts";
import { KeyedBuckets } from "./keyed-buckets.ts";
import type { Logger } from "./logger.ts";
import type { Member } from "./member.ts";
import type { PushSubscriptionRecord, RosterStore } from "./roster/roster-store.ts";

export type PushOutcome = { ok: true } | { gone: true } | { ok: false; reason: string };

/** What server/push provides: deliver one payload to one subscription. */
export interface PushDelivery {
  send(sub: PushSubscriptionRecord, payload: PushPayload, opts: { ttlSeconds: number; topic: string; urgency: "high" | "normal" }): Promise<PushOutcome>;
}

const MISSED_TTL_SECONDS = 24 * 3600;

export class PushRinger {
  private readonly byCaller: KeyedBuckets;
  private readonly byPair: KeyedBuckets;
  private readonly byCallee: KeyedBuckets;
  /** The ring's send of each pushed call still ringing: how many devices took it. */
  private readonly rings = new Map<string, Promise<number>>();

  constructor(
    private readonly delivery: PushDelivery,
    private readonly store: RosterStore,
    private readonly limits: Limits,
    private readonly log: Logger,
  ) {
    this.byCaller = new KeyedBuckets(limits.pushesPerCallerPerMinute, limits.pushesPerCallerPerMinute);
    this.byPair = new KeyedBuckets(limits.pushesPerCalleePerMinute, limits.pushesPerCalleePerMinute);
    this.byCallee = new KeyedBuckets(limits.pushesPerCalleePerMinute * 3, limits.pushesPerCalleePerMinute * 3);
  }

  /** The member has a device to ring and no budget is spent (takes one from each). */
  mayRing(caller: Member, callee: Member): boolean {
    if (this.store.pushSubscriptions(callee.group, callee.id).length === 0) return false;
    const keys: [KeyedBuckets, string, string][] = [
      [this.byCaller, `${caller.group}/${caller.id}`, `push by ${caller.id} refused: too many rings this minute`],
      [this.byPair, `${caller.group}/${caller.id}>${callee.id}`, `push by ${caller.id} to ${callee.id} refused: too many rings this minute`],
      [this.byCallee, `${callee.group}/${callee.id}`, `push to ${callee.id} refused: too many rings this minute`],
    ];
    const spent = keys.find(([b, k]) => b.peek(k) < 1);
    if (spent) {
      this.log.info(`group=${caller.group} ${spent[2]}`);
      return false;
    }
    for (const [b, k] of keys) b.take(k);
    return true;
  }

  /** Rings every device of the callee; `undeliverable` runs when none of them took it. */
  ring(call: Call, undeliverable: () => void): void {
    const ttl = Math.ceil(this.limits.pushRingTimeoutMs / 1000);
    const sent = this.sendAll(call, "ring", ttl, "high").catch((e) => {
      this.log.error(`group=${call.callee.group} push ring failed: ${(e as Error).message}`);
      return 0;
    });
    this.rings.set(call.id, sent);
    void sent
      .then((delivered) => {
        if (delivered === 0) undeliverable();
      })
      .catch((e) => this.log.error(`group=${call.callee.group} ending an undeliverable call failed: ${(e as Error).message}`));
  }

  /**
   * A pushed call ended. Unanswered (cancelled, no answer, the caller gone), the phone's ring
   * becomes a missed call — once the ring itself went out, and only if it reached a device.
   */
  ended(call: Call, unanswered: boolean): void {
    const ring = this.rings.get(call.id);
    this.rings.delete(call.id);
    if (!unanswered || !ring) return;
    void ring
      .then((delivered) => (delivered > 0 ? this.sendAll(call, "missed", MISSED_TTL_SECONDS, "normal") : 0))
      .catch((e) => this.log.error(`group=${call.callee.group} missed-call push failed: ${(e as Error).message}`));
  }

  private async sendAll(call: Call, kind: PushKind, ttlSeconds: number, urgency: "high" | "normal"): Promise<number> {
    const { callee, caller } = call;
    const payload: PushPayload = {
      v: 1,
      kind,
      callId: call.id,
      group: callee.group,
      name: caller.name,
      from: caller.id,
      exp: Date.now() + (kind === "ring" ? this.limits.pushRingTimeoutMs : ttlSeconds * 1000),
    };
    const subs = this.store.pushSubscriptions(callee.group, callee.id);
    const outcomes = await Promise.all(
      subs.map((sub) =>
        this.delivery.send(sub, payload, { ttlSeconds, topic: call.id, urgency }).catch((e): PushOutcome => ({ ok: false, reason: (e as Error).message })),
      ),
    );
    // Counted and logged (host and reason only) by the sender; here only what it means.
    let delivered = 0;
    outcomes.forEach((o, i) => {
      if ("gone" in o) {
        this.store.removePushSubscriptions(callee.group, callee.id, subs[i]!.endpoint);
        this.log.info(`group=${callee.group} push subscription of ${callee.id} is gone; dropped it`);
      } else if (o.ok) delivered++;
    });
    this.log.info(`group=${callee.group} call ${call.id.slice(0, 8)} ${kind} pushed to ${delivered} of ${subs.length} devices of ${callee.id}`);
    return delivered;
  }
}
