// Push subscriptions arriving from apps: checked against the push-service allow-list (the SSRF
// guard in server/push) before anything is stored, and kept per member device in the roster.
import { base64urlBytes } from "../protocol/base64url.ts";
import type { PushSubscriptionInfo } from "../protocol/messages.ts";
import type { Logger } from "./logger.ts";
import type { Member } from "./member.ts";
import type { Outbox } from "./outbox.ts";
import type { RosterStore } from "./roster/roster-store.ts";

/** A browser has one subscription per app; a few more cover a re-subscribe racing the old one. */
const SUBSCRIPTIONS_PER_MEMBER = 3;

/** Null when the subscription may be pushed to (endpoint allowed, keys valid), else why not. */
export type EndpointCheck = (sub: PushSubscriptionInfo) => string | null;

export class PushRegistry {
  constructor(
    private readonly store: RosterStore,
    private readonly check: EndpointCheck | null,
    private readonly out: Outbox,
    private readonly log: Logger,
  ) {}

  subscribe(me: Member, sub: PushSubscriptionInfo): void {
    const conn = me.conn!;
    if (!this.check) return this.out.error(conn, "push-unavailable", "this server cannot ring closed apps (push is not configured)", "push-subscribe");
    const refused = this.check(sub);
    if (refused) return this.out.error(conn, "bad-push-endpoint", refused, "push-subscribe");
    this.store.savePushSubscription(
      me.group,
      me.id,
      { endpoint: sub.endpoint, p256dh: base64urlBytes(sub.keys.p256dh, 65)!, auth: base64urlBytes(sub.keys.auth, 16)!, createdAt: Date.now() },
      SUBSCRIPTIONS_PER_MEMBER,
    );
    this.log.info(`group=${me.group} ${me.id} subscribed to push (${new URL(sub.endpoint).host})`);
    this.out.send(me, { t: "push-subscribed" });
  }

  unsubscribe(me: Member): void {
    const n = this.store.removePushSubscriptions(me.group, me.id);
    if (n > 0) this.log.info(`group=${me.group} ${me.id} unsubscribed from push`);
  }
}
