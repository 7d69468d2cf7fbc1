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
//   once instead of letting the caller listen to 45 s of ringing that reaches no phone.
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
  private readonly byCallee: KeyedBuckets;

  constructor(
    private readonly delivery: PushDelivery,
    private readonly store: RosterStore,
    private readonly limits: Limits,
    private readonly log: Logger,
  ) {
    this.byCaller = new KeyedBuckets(limits.pushesPerCallerPerMinute, limits.pushesPerCallerPerMinute);
    this.byCallee = new KeyedBuckets(limits.pushesPerCalleePerMinute, limits.pushesPerCalleePerMinute);
  }

  /** The member has a device to ring and neither side is over its push budget (takes one). */
  mayRing(caller: Member, callee: Member): boolean {
    if (this.store.pushSubscriptions(callee.group, callee.id).length === 0) return false;
    if (!this.byCallee.take(`${callee.group}/${callee.id}`)) {
      this.log.info(`group=${callee.group} push to ${callee.id} refused: too many rings this minute`);
      return false;
    }
    if (!this.byCaller.take(`${caller.group}/${caller.id}`)) {
      this.log.info(`group=${caller.group} push by ${caller.id} refused: too many rings this minute`);
      return false;
    }
    return true;
  }

  /** Rings every device of the callee; `undeliverable` runs when none of them took it. */
  ring(call: Call, undeliverable: () => void): void {
    const ttl = Math.ceil(this.limits.pushRingTimeoutMs / 1000);
    void this.sendAll(call, "ring", ttl, "high").then((delivered) => {
      if (delivered === 0) undeliverable();
    });
  }

  missed(call: Call): void {
    void this.sendAll(call, "missed", MISSED_TTL_SECONDS, "normal");
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
