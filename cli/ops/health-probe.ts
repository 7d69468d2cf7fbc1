// GET /api/health (and /metrics) from a running server. A self-signed certificate is accepted
// only when its SHA-256 fingerprint equals the certificate file on disk: the check is a pin,
// never a blind "accept any certificate" — a different server on the port is reported, not
// trusted. /api/health says only status and version; the live counts come from /metrics,
// which the server answers on loopback or with the configured metrics token.
import { isIP } from "node:net";
import tls from "node:tls";

export interface Health {
  status: string;
  version: string;
  [k: string]: unknown;
}

/** What `status` shows from /metrics. */
export interface LiveCounts {
  groups: number;
  members: number;
  calls: number;
  connections: number;
  uptimeSeconds: number;
}

/** Web Push as the running server reports it (issue #9); `voicesrv status --json` shows it as is. */
export interface PushStatus {
  configured: boolean;
  subscriptions: number | null;
  lastFailure: { at: string; host: string; reason: string } | null;
}

/** The push lines of a /metrics text (server/metrics.ts); null when the server predates push. */
export function parsePushMetrics(text: string): PushStatus | null {
  const m = parsePrometheusText(text);
  if (!m.has("voicesrv_push_configured")) return null;
  const failure = /^voicesrv_push_last_failure_timestamp_seconds\{host="([^"]*)",reason="([^"]*)"\}\s+(\d+)/m.exec(text);
  return {
    configured: m.get("voicesrv_push_configured") === 1,
    subscriptions: m.has("voicesrv_push_subscriptions") ? m.get("voicesrv_push_subscriptions")! : null,
    lastFailure: failure ? { at: new Date(Number(failure[3]) * 1000).toISOString(), host: failure[1]!, reason: failure[2]! } : null,
  };
}

export type HealthResult =
  | { kind: "ok"; health: Health; fingerprint256?: string }
  | { kind: "unreachable"; detail: string }
  | { kind: "untrusted"; detail: string; fingerprint256: string }
  | { kind: "bad-response"; detail: string };

export type MetricsResult = { kind: "ok"; counts: LiveCounts; push: PushStatus | null } | { kind: "refused"; detail: string } | { kind: "failed"; detail: string };

type GetResult =
  | { kind: "ok"; status: number; body: string; fingerprint256?: string }
  | { kind: "unreachable"; detail: string }
  | { kind: "untrusted"; detail: string; fingerprint256: string }
  | { kind: "bad-response"; detail: string };

function decodeChunked(body: string): string {
  let out = "";
  let rest = body;
  for (;;) {
    const nl = rest.indexOf("\r\n");
    if (nl < 0) return out;
    const size = parseInt(rest.slice(0, nl), 16);
    if (!size) return out;
    out += rest.slice(nl + 2, nl + 2 + size);
    rest = rest.slice(nl + 2 + size + 2);
  }
}

function parseResponse(raw: string): { status: number; body: string } | null {
  const split = raw.indexOf("\r\n\r\n");
  if (split < 0) return null;
  const head = raw.slice(0, split);
  let body = raw.slice(split + 4);
  if (/^transfer-encoding:\s*chunked/im.test(head)) body = decodeChunked(body);
  return { status: Number(head.split(" ")[1]), body };
}

/** GET `path`; over https the certificate must be publicly trusted or match `pin`. */
function pinnedGet(url: string, path: string, opts: { pin?: string; timeoutMs?: number; headers?: Record<string, string> }): Promise<GetResult> {
  const u = new URL(url);
  const timeoutMs = opts.timeoutMs ?? 3000;
  if (u.protocol === "http:") {
    return fetch(new URL(path, u), { headers: opts.headers, signal: AbortSignal.timeout(timeoutMs) })
      .then(async (r) => ({ kind: "ok", status: r.status, body: await r.text() }) as GetResult)
      .catch((e: Error) => ({ kind: "unreachable", detail: e.message }));
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(u.port || 443);
  const extra = Object.entries(opts.headers ?? {})
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: GetResult) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(r);
    };
    const socket = tls.connect({
      host,
      port,
      servername: isIP(host) ? undefined : host,
      // Verification happens below: public-CA chains by Node, self-signed ones by the pin.
      rejectUnauthorized: false,
      ALPNProtocols: ["http/1.1"],
    });
    let raw = "";
    socket.setEncoding("utf8");
    socket.setTimeout(timeoutMs, () => finish({ kind: "unreachable", detail: `no answer from ${u.host} within ${timeoutMs} ms` }));
    socket.on("secureConnect", () => {
      const fingerprint256 = socket.getPeerX509Certificate()?.fingerprint256 ?? "";
      const pinned = opts.pin !== undefined && fingerprint256 === opts.pin.toUpperCase();
      if (!pinned && !socket.authorized) {
        return finish({
          kind: "untrusted",
          fingerprint256,
          detail: opts.pin
            ? `the server at ${u.host} presents certificate ${fingerprint256}, not the one on disk (${opts.pin})`
            : `the server at ${u.host} presents an untrusted certificate and there is no certificate file to pin it to`,
        });
      }
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\n${extra}Connection: close\r\n\r\n`);
      socket.on("end", () => {
        const r = parseResponse(raw);
        finish(r ? { kind: "ok", ...r, fingerprint256 } : { kind: "bad-response", detail: "no HTTP response" });
      });
    });
    socket.on("data", (chunk: string) => (raw += chunk));
    socket.on("error", (e: NodeJS.ErrnoException) => finish({ kind: "unreachable", detail: e.code === "ECONNREFUSED" ? `nothing listens on ${u.host}` : e.message }));
  });
}

/** pin: the expected "AA:BB:…" SHA-256 fingerprint of the server's certificate. */
export async function fetchHealth(url: string, opts: { pin?: string; timeoutMs?: number } = {}): Promise<HealthResult> {
  const r = await pinnedGet(url, "/api/health", { ...opts, headers: { Accept: "application/json" } });
  if (r.kind !== "ok") return r;
  if (r.status !== 200) return { kind: "bad-response", detail: `/api/health answered HTTP ${r.status}` };
  try {
    return { kind: "ok", health: JSON.parse(r.body) as Health, fingerprint256: r.fingerprint256 };
  } catch {
    return { kind: "bad-response", detail: "/api/health did not answer JSON — is this voicesrv?" };
  }
}

/** Unlabelled samples of a Prometheus text exposition, by metric name. */
export function parsePrometheusText(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\s+(\S+)/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** The live counts from /metrics; `token` is the server's metricsToken, for a remote server. */
export async function fetchMetrics(url: string, opts: { pin?: string; timeoutMs?: number; token?: string } = {}): Promise<MetricsResult> {
  const headers: Record<string, string> = { Accept: "text/plain" };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  const r = await pinnedGet(url, "/metrics", { pin: opts.pin, timeoutMs: opts.timeoutMs, headers });
  if (r.kind !== "ok") return { kind: "failed", detail: r.detail };
  if (r.status === 403) return { kind: "refused", detail: "the server shows its live counts (/metrics) only on loopback or with metricsToken" };
  if (r.status !== 200) return { kind: "failed", detail: `/metrics answered HTTP ${r.status}` };
  const m = parsePrometheusText(r.body);
  const get = (name: string) => m.get(name) ?? NaN;
  const counts: LiveCounts = {
    groups: get("voicesrv_groups"),
    members: get("voicesrv_members"),
    calls: get("voicesrv_calls"),
    connections: get("voicesrv_connections"),
    uptimeSeconds: get("voicesrv_uptime_seconds"),
  };
  if (Object.values(counts).some((v) => !Number.isFinite(v))) return { kind: "failed", detail: "/metrics lacks the voicesrv counts — is this voicesrv?" };
  return { kind: "ok", counts, push: parsePushMetrics(r.body) };
}

/** The URL a local client reaches a server on, from its bind address. */
export function localUrl(host: string, port: number, secure: boolean): string {
  const h = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "[::1]" : host.includes(":") ? `[${host}]` : host;
  return `${secure ? "https" : "http"}://${h}:${port}`;
}
