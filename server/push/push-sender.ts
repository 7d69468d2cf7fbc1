// Sends one Web Push message (RFC 8030) to one subscription: JSON payload encrypted for the
// subscription (payload-cipher.ts), VAPID credentials (vapid-token.ts), POSTed through the
// guarded client (push-client.ts). Keeps the counts `voicesrv status` shows.
//
// Decisions:
// - Results, never throws: { ok: true, status } for any 2xx; { ok: false, gone: true } for 404
//   and 410 (the subscription is dead: the caller deletes it); { ok: false, reason } for the rest,
//   including refusals by the endpoint guard. 404/410 are not failures of the server and are
//   counted apart ("gone").
// - Logs name only the endpoint's host: the path is the subscription's capability. Payloads,
//   keys and tokens are never logged.
// - Topic (RFC 8030 §5.4): at most 32 characters of the base64url alphabet; a later message
//   with the same topic replaces an undelivered earlier one (a missed-call notice replaces the
//   ringing one).
import type { Logger } from "../logger.ts";
import type { PushTransport } from "./endpoint-guard.ts";
import { encryptPushPayload, MAX_PLAINTEXT_BYTES } from "./payload-cipher.ts";
import { postToPushService } from "./push-client.ts";
import { checkSubscription } from "./subscription-check.ts";
import { vapidAuthorization, type VapidSigner } from "./vapid-token.ts";

export const URGENCIES = ["very-low", "low", "normal", "high"] as const;
export type Urgency = (typeof URGENCIES)[number];
/** RFC 8030 leaves the ceiling to the service; 28 days is what they keep at most. */
export const MAX_TTL_SECONDS = 28 * 86_400;

export interface SendOptions {
  /** How long the push service may hold the message for an offline device (seconds). */
  ttlSeconds: number;
  urgency?: Urgency;
  topic?: string;
}

export type SendResult =
  | { ok: true; status: number }
  | { ok: false; gone: true; status: number }
  | { ok: false; gone?: false; reason: string; status?: number };

export interface PushFailure {
  /** ISO time. */
  time: string;
  /** The endpoint's host, never the rest of the URL. */
  host: string;
  reason: string;
  status?: number;
}

export interface PushStats {
  sent: number;
  failed: number;
  gone: number;
  lastFailure: PushFailure | null;
}

export interface PushSenderOptions {
  keys: VapidSigner;
  /** The VAPID `sub` (vapidSubject()). */
  subject: string;
  transport?: PushTransport;
  log?: Logger;
  now?: () => number;
}

export interface PushSender {
  send(subscription: unknown, payload: unknown, opts: SendOptions): Promise<SendResult>;
  stats(): PushStats;
}

function optionProblem(opts: SendOptions): string | null {
  if (!Number.isInteger(opts.ttlSeconds) || opts.ttlSeconds < 0 || opts.ttlSeconds > MAX_TTL_SECONDS) return `ttlSeconds must be a whole number 0–${MAX_TTL_SECONDS}`;
  if (opts.urgency !== undefined && !URGENCIES.includes(opts.urgency)) return `urgency must be one of ${URGENCIES.join(", ")}`;
  if (opts.topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(opts.topic)) return "topic must be 1–32 characters of A–Z a–z 0–9 - _";
  return null;
}

export function createPushSender(options: PushSenderOptions): PushSender {
  const transport = options.transport ?? {};
  const now = options.now ?? Date.now;
  const stats: PushStats = { sent: 0, failed: 0, gone: 0, lastFailure: null };

  const fail = (host: string, reason: string, status?: number): SendResult => {
    stats.failed++;
    stats.lastFailure = { time: new Date(now()).toISOString(), host, reason, ...(status !== undefined ? { status } : {}) };
    options.log?.warn("push failed", { host, status, reason });
    return status !== undefined ? { ok: false, reason, status } : { ok: false, reason };
  };

  return {
    stats: () => ({ ...stats, lastFailure: stats.lastFailure && { ...stats.lastFailure } }),

    async send(subscription, payload, opts) {
      const checked = checkSubscription(subscription, transport);
      if (!checked.ok) return fail(hostOf(subscription), `subscription refused: ${checked.reason}`);
      const sub = checked.subscription;
      const problem = optionProblem(opts);
      if (problem) return fail(sub.host, problem);
      let plaintext: Uint8Array;
      try {
        plaintext = new TextEncoder().encode(JSON.stringify(payload));
      } catch {
        return fail(sub.host, "the payload is not JSON-serialisable");
      }
      if (plaintext.byteLength > MAX_PLAINTEXT_BYTES) return fail(sub.host, `the payload is ${plaintext.byteLength} bytes, more than the ${MAX_PLAINTEXT_BYTES} one message holds`);

      const body = await encryptPushPayload(plaintext, { p256dh: sub.p256dh, auth: sub.auth });
      const headers: Record<string, string> = {
        TTL: String(opts.ttlSeconds),
        Urgency: opts.urgency ?? "normal",
        ...(opts.topic ? { Topic: opts.topic } : {}),
        "Content-Type": "application/octet-stream",
        "Content-Encoding": "aes128gcm",
        Authorization: await vapidAuthorization(options.keys, sub.endpoint, options.subject, now()),
      };
      const r = await postToPushService(sub.endpoint.href, headers, body, transport);
      if (!r.ok) return fail(sub.host, r.reason);
      if (r.status >= 200 && r.status < 300) {
        stats.sent++;
        return { ok: true, status: r.status };
      }
      if (r.status === 404 || r.status === 410) {
        stats.gone++;
        options.log?.info("push subscription gone", { host: sub.host, status: r.status });
        return { ok: false, gone: true, status: r.status };
      }
      return fail(sub.host, statusReason(r.status, r.detail), r.status);
    },
  };
}

function statusReason(status: number, detail: string | undefined): string {
  const what =
    status >= 300 && status < 400
      ? "redirect refused"
      : status === 400
        ? "rejected as malformed"
        : status === 401 || status === 403
          ? "VAPID credentials refused"
          : status === 413
            ? "payload too large"
            : status === 429
              ? "too many requests"
              : status >= 500
                ? "push service error"
                : "unexpected answer";
  return `${status} ${what}${detail ? `: ${detail}` : ""}`;
}

function hostOf(subscription: unknown): string {
  try {
    return new URL((subscription as { endpoint: string }).endpoint).hostname.slice(0, 100) || "(none)";
  } catch {
    return "(none)";
  }
}
