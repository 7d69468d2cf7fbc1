// One Bun.serve listener carries HTTPS and WSS. Bun.serve is used directly (Elysia only handles
// the HTTP routes) because the relay needs what Elysia's ws layer hides or ignores: the
// connection-wide limits (DESIGN.md: Elysia drops per-route maxPayloadLength/idleTimeout),
// ws.send()'s backpressure result and getBufferedAmount() for dropping media, an upgrade check
// without side effects run twice, and a second listener with reusePort for a certificate swap
// that keeps calls up.
// Every request's Host header is checked before anything uses it (host-header.ts); routing
// never depends on it (request-target.ts). A request with a bad Host gets 400, and is logged at
// most once per 10 s so that a scanner cannot fill the journal.
import type { Server, ServerWebSocket } from "bun";
import { isValidGroupName } from "../protocol/group-name.ts";
import { effectiveCloseCode } from "./close-code.ts";
import type { ServerConfig, TrustProxy } from "./config.ts";
import type { Connection } from "./connection.ts";
import { validHost } from "./host-header.ts";
import type { Hub } from "./hub.ts";
import type { Logger } from "./logger.ts";
import { METRICS_CONTENT_TYPE, metricsAllowed } from "./metrics.ts";
import { TokenBucket } from "./rate-limiter.ts";
import { RateLimitedLog } from "./rate-limited-log.ts";
import { requestTarget, routableRequest, targetPath } from "./request-target.ts";
import { securityHeaders, withHeaders } from "./security-headers.ts";

/** Bun closes a socket that sends more than this in one message; our own limits are lower and answered with errors. */
const HARD_MAX_PAYLOAD = 64 * 1024;
/**
 * Bun answers every WebSocket ping with a pong by itself; a client that pings faster than this
 * for long (refusals in 10 s) is flooding and is closed with 1008. Browsers never send pings;
 * other clients' keep-alives are far below it.
 */
const PINGS_PER_SECOND = 5;
const PING_BURST = 20;
const PING_FLOOD_REFUSALS = 50;
const CLOSE_POLICY = 1008;

interface WsData {
  group: string;
  ip: string;
  conn: Connection | null;
  pings: TokenBucket;
}

export interface Tls {
  cert: string;
  key: string;
}

type HttpHandler = (req: Request) => Response | Promise<Response>;

export interface Handlers {
  /** The Elysia routes; gets a request whose URL is on a fixed origin (request-target.ts). */
  http: HttpHandler;
  /** The Prometheus text for GET /metrics, served only when metricsAllowed() says so. */
  metrics: () => string;
}

export function clientIp(req: Request, server: Server<WsData>, trustProxy: TrustProxy): string {
  if (trustProxy === "cloudflare") {
    const h = req.headers.get("cf-connecting-ip")?.trim();
    if (h) return h;
  } else if (trustProxy === "x-forwarded-for") {
    // Proxies append; only the last entry was written by the proxy next to us.
    const h = req.headers.get("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (h) return h;
  }
  return server.requestIP(req)?.address ?? "unknown";
}

/**
 * A throw inside a Bun WebSocket handler ends the process — every call on the server. The hub
 * is written not to throw; this is the backstop, closing only the socket involved.
 */
function guarded<A extends unknown[]>(log: Logger, what: string, fn: (ws: ServerWebSocket<WsData>, ...a: A) => void) {
  return (ws: ServerWebSocket<WsData>, ...a: A) => {
    try {
      fn(ws, ...a);
    } catch (e) {
      log.error("websocket handler failed", { handler: what, group: ws.data.group, member: ws.data.conn?.member?.id, error: `${(e as Error).name}: ${(e as Error).message}` });
      try {
        ws.close(1011, "internal error");
      } catch {
        // already closed
      }
    }
  };
}

function originAllowed(req: Request, host: string, config: ServerConfig): boolean {
  const origin = req.headers.get("origin");
  // Browsers always send Origin on a WebSocket upgrade; the check stops other sites' pages from
  // opening sockets with a visitor's browser. Non-browser clients can omit it and gain nothing.
  if (!origin) return true;
  if (config.allowedOrigins.includes(origin)) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

function text(body: string, status: number, extra: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { "Content-Type": "text/plain; charset=utf-8", ...extra } });
}

export function listen(config: ServerConfig, tls: Tls | null, hub: Hub, handlers: Handlers, log: Logger, port = config.port): Server<WsData> {
  const secure = tls !== null;
  const badHostLog = new RateLimitedLog(log, 10_000);
  // Addresses only with "logIps": true (config.ts); group names and member IDs are not secret.
  const who = (ip: string) => (config.logIps ? { ip } : {});
  // Refusals are caused at will by any client: one line per reason per 10 s, with a count, so
  // a scanner cannot fill the journal while the operator still learns why people are refused.
  // Bun.serve reports nothing about failed TLS handshakes (no hook as of Bun 1.4), so a client
  // that rejects the certificate shows up only as the absence of "connection accepted".
  const refusals = new Map<string, { last: number; pending: number }>();
  const refuse = (req: Request, group: string, ip: string, reason: string, response: Response, headers: Record<string, string>) => {
    const r = refusals.get(reason) ?? { last: -Infinity, pending: 0 };
    refusals.set(reason, r);
    r.pending++;
    const now = performance.now();
    if (now - r.last >= 10_000) {
      log.info("connection refused", { group, reason, origin: req.headers.get("origin") ?? undefined, ...who(ip), count: r.pending > 1 ? r.pending : undefined });
      r.last = now;
      r.pending = 0;
    }
    return withHeaders(response, headers);
  };
  return Bun.serve<WsData>({
    port,
    hostname: config.host,
    reusePort: true,
    // No route takes more than a tiny JSON body (POST /api/push/decline reads at most 1 KiB).
    maxRequestBodySize: 64 * 1024,
    ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
    async fetch(req, server) {
      const host = validHost(req.headers.get("host"));
      if (host === null) {
        badHostLog.warn((n) => `refused ${n} request(s) with a missing or malformed Host header (HTTP 400)`);
        return withHeaders(text("Bad Request: the Host header must be hostname[:port]\n", 400), securityHeaders(null, secure));
      }
      const headers = securityHeaders(host, secure);
      const target = requestTarget(req.url);
      const path = targetPath(target);
      if (path.startsWith("/ws/")) {
        const group = path.slice(4);
        if (!isValidGroupName(group)) return withHeaders(text("Unknown group\n", 404), headers);
        const ip = clientIp(req, server, config.trustProxy);
        if (!originAllowed(req, host, config)) return refuse(req, group, ip, "origin not allowed (add it to allowedOrigins if it is yours)", text("Origin not allowed\n", 403), headers);
        if (!hub.canAcceptFrom(ip)) return refuse(req, group, ip, `per-IP connection limit (${config.limits.connectionsPerIp})`, text("Too many connections from your address\n", 429), headers);
        const data: WsData = { group, ip, conn: null, pings: new TokenBucket(PINGS_PER_SECOND, PING_BURST) };
        if (server.upgrade(req, { data })) {
          log.info("connection accepted", { group, ...who(ip) });
          return undefined as unknown as Response;
        }
        return withHeaders(text("Expected a WebSocket upgrade\n", 426), headers);
      }
      if (path === "/metrics" && (req.method === "GET" || req.method === "HEAD")) {
        if (!metricsAllowed(req, server.requestIP(req)?.address, config.metricsToken)) {
          return withHeaders(text("Forbidden: /metrics answers loopback, or a request with the metrics token\n", 403), headers);
        }
        return withHeaders(new Response(handlers.metrics(), { headers: { "Content-Type": METRICS_CONTENT_TYPE, "Cache-Control": "no-store" } }), headers);
      }
      return withHeaders(await handlers.http(routableRequest(req, target)), headers);
    },
    error(e) {
      // Never the message or stack to the client; one line to the operator.
      log.error(`HTTP handler failed: ${e.name}: ${e.message}`);
      return withHeaders(text("Internal error\n", 500), securityHeaders(null, secure));
    },
    websocket: {
      maxPayloadLength: HARD_MAX_PAYLOAD,
      idleTimeout: config.limits.idleTimeoutSeconds,
      sendPings: true,
      perMessageDeflate: false,
      backpressureLimit: 4 * 1024 * 1024,
      closeOnBackpressureLimit: false,
      open: guarded(log, "open", (ws) => {
        ws.data.conn = hub.open(
          {
            sendText: (t) => void ws.send(t),
            sendBinary: (d) => ws.send(d),
            bufferedAmount: () => ws.getBufferedAmount(),
            close: (code, reason) => ws.close(code, reason),
          },
          ws.data.group,
          ws.data.ip,
        );
      }),
      message: guarded(log, "message", (ws, message: string | Buffer) => {
        const conn = ws.data.conn;
        if (!conn) return;
        if (typeof message === "string") hub.text(conn, message);
        else hub.binary(conn, message);
      }),
      ping: guarded(log, "ping", (ws) => {
        const pings = ws.data.pings;
        if (!pings.take() && pings.refusedInWindow > PING_FLOOD_REFUSALS) ws.close(CLOSE_POLICY, "ping flood");
      }),
      close: guarded(log, "close", (ws, code: number, reason: string) => {
        log.info("connection closed", { group: ws.data.group, member: ws.data.conn?.member?.id, code, ...who(ws.data.ip) });
        // Bun's own protocol closes (too big, bad UTF-8, …) arrive as 1006 like a network drop;
        // they are policy closes and must free the member at once (close-code.ts).
        if (ws.data.conn) hub.close(ws.data.conn, effectiveCloseCode(code, reason));
      }),
    },
  });
}
