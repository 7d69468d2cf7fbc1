// GET /metrics in the Prometheus text format (version 0.0.4). Live counts say when a group is
// on a call, so they are not public (issue #13): /api/health says only status and version, and
// /metrics answers a request from loopback that no proxy forwarded, or one carrying the
// configured bearer token (`metricsToken`). Behind a proxy on the same host every request comes
// from loopback; a request with any forwarding header is therefore treated as remote — the
// proxies voicesrv documents (cloudflared, nginx with X-Forwarded-For) always add one.
// Names follow the Prometheus conventions: base units (seconds), `_total` for counters, one
// `reason` label for drops instead of one metric per reason.
import { timingSafeEqual } from "node:crypto";
import type { MediaCounters } from "./counters.ts";
import type { HubCounts } from "./hub.ts";

export interface MetricsSnapshot {
  version: string;
  startedAtMs: number;
  nowMs: number;
  counts: HubCounts;
  media: MediaCounters;
  kxRelayed: number;
  /** notAfter of the certificate being served; null in plain-HTTP mode. */
  certificateNotAfterMs: number | null;
  /** Web Push (issue #9); null when it is off. The failure's reason and host, never the endpoint. */
  push: { subscriptions: number; sent: number; failed: number; gone: number; lastFailure: { time: string; host: string; reason: string } | null } | null;
}

const DROP_REASONS: [keyof MediaCounters, string][] = [
  ["droppedUnknownCall", "unknown-call"],
  ["droppedNotMember", "not-member"],
  ["droppedBackpressure", "backpressure"],
  ["droppedRate", "rate-limit"],
  ["droppedMalformed", "malformed"],
];

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function metric(out: string[], name: string, type: "gauge" | "counter", help: string, samples: [string, number][]): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, v] of samples) out.push(`${name}${labels} ${Number.isFinite(v) ? v : 0}`);
}

export function renderMetrics(s: MetricsSnapshot): string {
  const out: string[] = [];
  const sec = (ms: number) => Math.round(ms / 1000);
  metric(out, "voicesrv_build_info", "gauge", "Always 1; the running version is in the label.", [[`{version="${s.version.replace(/["\\\n]/g, "")}"}`, 1]]);
  metric(out, "voicesrv_start_time_seconds", "gauge", "Start time of the server, Unix seconds.", [["", sec(s.startedAtMs)]]);
  metric(out, "voicesrv_uptime_seconds", "gauge", "Seconds since the server started.", [["", sec(s.nowMs - s.startedAtMs)]]);
  metric(out, "voicesrv_connections", "gauge", "Open WebSocket connections.", [["", s.counts.connections]]);
  metric(out, "voicesrv_members", "gauge", "Members online or away (within the resume grace), all groups.", [["", s.counts.members]]);
  metric(out, "voicesrv_groups", "gauge", "Groups with at least one member.", [["", s.counts.groups]]);
  metric(out, "voicesrv_calls", "gauge", "Calls ringing or connected.", [["", s.counts.calls]]);
  metric(out, "voicesrv_media_frames_relayed_total", "counter", "Media frames forwarded to the other member of a call.", [["", s.media.relayed]]);
  metric(out, "voicesrv_media_frames_dropped_total", "counter", "Media frames not forwarded, by reason.", DROP_REASONS.map(([k, reason]) => [`{reason="${reason}"}`, s.media[k]]));
  metric(out, "voicesrv_kx_relayed_total", "counter", "Key-exchange messages relayed (opaque; never parsed or logged).", [["", s.kxRelayed]]);
  if (s.certificateNotAfterMs !== null) {
    metric(out, "voicesrv_certificate_not_after_timestamp_seconds", "gauge", "Expiry of the served TLS certificate, Unix seconds.", [["", sec(s.certificateNotAfterMs)]]);
    metric(out, "voicesrv_certificate_expiry_seconds", "gauge", "Seconds until the served TLS certificate expires (negative once expired).", [["", sec(s.certificateNotAfterMs - s.nowMs)]]);
  }
  metric(out, "voicesrv_push_configured", "gauge", "1 when this server can ring closed apps (VAPID keys and a contact subject).", [["", s.push ? 1 : 0]]);
  if (s.push) {
    const p = s.push;
    metric(out, "voicesrv_push_subscriptions", "gauge", "Stored push subscriptions, all groups.", [["", p.subscriptions]]);
    metric(out, "voicesrv_push_messages_total", "counter", "Push messages by outcome (gone: the service said the subscription no longer exists).", [
      ['{outcome="sent"}', p.sent],
      ['{outcome="failed"}', p.failed],
      ['{outcome="gone"}', p.gone],
    ]);
    if (p.lastFailure) {
      const label = (v: string) => v.replace(/["\\\n]/g, "").slice(0, 200);
      metric(out, "voicesrv_push_last_failure_timestamp_seconds", "gauge", "When a push last failed, with the push service host and reason.", [
        [`{host="${label(p.lastFailure.host)}",reason="${label(p.lastFailure.reason)}"}`, sec(Date.parse(p.lastFailure.time))],
      ]);
    }
  }
  return out.join("\n") + "\n";
}

const FORWARDING_HEADERS = ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip", "cf-connecting-ip", "true-client-ip"];

export function isLoopbackAddress(ip: string): boolean {
  const a = ip.startsWith("::ffff:") ? ip.slice(7) : ip;
  return a === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

function tokenMatches(header: string | null, token: string): boolean {
  if (!header?.startsWith("Bearer ")) return false;
  const got = Buffer.from(header.slice(7).trim());
  const want = Buffer.from(token);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** May this request read /metrics? `peer` is the socket's address, never a header. */
export function metricsAllowed(req: Request, peer: string | undefined, token: string | undefined): boolean {
  if (token && tokenMatches(req.headers.get("authorization"), token)) return true;
  if (!peer || !isLoopbackAddress(peer)) return false;
  return FORWARDING_HEADERS.every((h) => !req.headers.has(h));
}
