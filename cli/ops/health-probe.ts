// GET /api/health from a running server. A self-signed certificate is accepted only when its
// SHA-256 fingerprint equals the certificate file on disk: the check is a pin, never a blind
// "accept any certificate" — a different server on the port is reported, not trusted.
import { isIP } from "node:net";
import tls from "node:tls";

export interface Health {
  status: string;
  version: string;
  uptimeSeconds: number;
  groups: number;
  members: number;
  calls: number;
  connections: number;
  [k: string]: unknown;
}

export type HealthResult =
  | { kind: "ok"; health: Health; fingerprint256?: string }
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

function parseResponse(raw: string): HealthResult {
  const split = raw.indexOf("\r\n\r\n");
  if (split < 0) return { kind: "bad-response", detail: "no HTTP response" };
  const head = raw.slice(0, split);
  let body = raw.slice(split + 4);
  const status = Number(head.split(" ")[1]);
  if (/^transfer-encoding:\s*chunked/im.test(head)) body = decodeChunked(body);
  if (status !== 200) return { kind: "bad-response", detail: `/api/health answered HTTP ${status}` };
  try {
    return { kind: "ok", health: JSON.parse(body) as Health };
  } catch {
    return { kind: "bad-response", detail: "/api/health did not answer JSON — is this voicesrv?" };
  }
}

/** pin: the expected "AA:BB:…" SHA-256 fingerprint of the server's certificate. */
export function fetchHealth(url: string, opts: { pin?: string; timeoutMs?: number } = {}): Promise<HealthResult> {
  const u = new URL(url);
  const timeoutMs = opts.timeoutMs ?? 3000;
  if (u.protocol === "http:") {
    return fetch(new URL("/api/health", u), { signal: AbortSignal.timeout(timeoutMs) })
      .then(async (r) => (r.ok ? ({ kind: "ok", health: (await r.json()) as Health } as HealthResult) : ({ kind: "bad-response", detail: `HTTP ${r.status}` } as HealthResult)))
      .catch((e: Error) => ({ kind: "unreachable", detail: e.message }));
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(u.port || 443);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: HealthResult) => {
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
      socket.write(`GET /api/health HTTP/1.1\r\nHost: ${u.host}\r\nAccept: application/json\r\nConnection: close\r\n\r\n`);
      socket.on("end", () => {
        const r = parseResponse(raw);
        finish(r.kind === "ok" ? { ...r, fingerprint256 } : r);
      });
    });
    socket.on("data", (chunk: string) => (raw += chunk));
    socket.on("error", (e: NodeJS.ErrnoException) => finish({ kind: "unreachable", detail: e.code === "ECONNREFUSED" ? `nothing listens on ${u.host}` : e.message }));
  });
}

/** The URL a local client reaches a server on, from its bind address. */
export function localUrl(host: string, port: number, secure: boolean): string {
  const h = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "[::1]" : host.includes(":") ? `[${host}]` : host;
  return `${secure ? "https" : "http"}://${h}:${port}`;
}
