// One Bun.serve listener carries HTTPS and WSS. Bun.serve is used directly (Elysia only handles
// the HTTP routes) because the relay needs what Elysia's ws layer hides or ignores: the
// connection-wide limits (DESIGN.md: Elysia drops per-route maxPayloadLength/idleTimeout),
// ws.send()'s backpressure result and getBufferedAmount() for dropping media, an upgrade check
// without side effects run twice, and a second listener with reusePort for a certificate swap
// that keeps calls up.
import type { Server, ServerWebSocket } from "bun";
import { isValidGroupName } from "../protocol/group-name.ts";
import type { ServerConfig, TrustProxy } from "./config.ts";
import type { Connection } from "./connection.ts";
import type { Hub } from "./hub.ts";
import type { Logger } from "./logger.ts";
import { securityHeaders, withHeaders } from "./security-headers.ts";

/** Bun closes a socket that sends more than this in one message; our own limits are lower and answered with errors. */
const HARD_MAX_PAYLOAD = 64 * 1024;

interface WsData {
  group: string;
  ip: string;
  conn: Connection | null;
}

export interface Tls {
  cert: string;
  key: string;
}

type HttpHandler = (req: Request) => Response | Promise<Response>;

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
      log.error(`websocket ${what} handler failed: ${(e as Error).name}: ${(e as Error).message}`);
      try {
        ws.close(1011, "internal error");
      } catch {
        // already closed
      }
    }
  };
}

function originAllowed(req: Request, config: ServerConfig): boolean {
  const origin = req.headers.get("origin");
  // Browsers always send Origin on a WebSocket upgrade; the check stops other sites' pages from
  // opening sockets with a visitor's browser. Non-browser clients can omit it and gain nothing.
  if (!origin) return true;
  if (config.allowedOrigins.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.get("host");
  } catch {
    return false;
  }
}

export function listen(config: ServerConfig, tls: Tls | null, hub: Hub, http: HttpHandler, log: Logger, port = config.port): Server<WsData> {
  const secure = tls !== null;
  return Bun.serve<WsData>({
    port,
    hostname: config.host,
    reusePort: true,
    ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
    async fetch(req, server) {
      const url = new URL(req.url);
      const headers = securityHeaders(req.headers.get("host"), secure);
      if (url.pathname.startsWith("/ws/")) {
        const group = url.pathname.slice(4);
        if (!isValidGroupName(group)) return withHeaders(new Response("Unknown group\n", { status: 404 }), headers);
        if (!originAllowed(req, config)) return withHeaders(new Response("Origin not allowed\n", { status: 403 }), headers);
        const ip = clientIp(req, server, config.trustProxy);
        if (!hub.canAcceptFrom(ip)) return withHeaders(new Response("Too many connections from your address\n", { status: 429 }), headers);
        if (server.upgrade(req, { data: { group, ip, conn: null } })) return undefined as unknown as Response;
        return withHeaders(new Response("Expected a WebSocket upgrade\n", { status: 426 }), headers);
      }
      return withHeaders(await http(req), headers);
    },
    error() {
      return new Response("Internal error\n", { status: 500 });
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
      close: guarded(log, "close", (ws, code: number) => {
        if (ws.data.conn) hub.close(ws.data.conn, code);
      }),
    },
  });
}
