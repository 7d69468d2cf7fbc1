// The only way the server talks to a push service: one HTTPS POST to a checked endpoint.
//
// - The endpoint passes checkEndpointUrl (https, default port, allow-listed DNS name).
// - The name is resolved once and every address checked (endpoint-guard.ts); the TLS connection
//   then goes to a checked address itself, with SNI and certificate verification for the name
//   and Host set to it, so a rebinding DNS answer is never looked up, let alone used.
// - Redirects are never followed: a 3xx is a failure (its Location could point anywhere).
// - One budget for the whole exchange (default 10 s) and at most 64 KiB of response read.
// - HTTP/1.1 written by hand over node:tls (Bun's implementation, in the compiled binary too):
//   fetch() offers no way to connect to one address while verifying the certificate for a name.
//   `Connection: close`, so the exchange ends with the response.
import { connect, type TLSSocket } from "node:tls";
import { VERSION } from "../version.ts";
import { checkEndpointUrl, resolveChecked, type PushTransport } from "./endpoint-guard.ts";

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

export type PushHttpResult =
  | { ok: true; status: number; /** A short, token-free summary of an error body. */ detail?: string }
  | { ok: false; reason: string };

/** POSTs `body` to `endpoint`; every refusal and failure is a result, never a throw. */
export async function postToPushService(endpoint: string, headers: Record<string, string>, body: Uint8Array, transport: PushTransport = {}): Promise<PushHttpResult> {
  const checked = checkEndpointUrl(endpoint, transport);
  if (!checked.ok) return checked;
  for (const [k, v] of Object.entries(headers)) {
    if (!/^[A-Za-z0-9-]+$/.test(k) || /[\r\n\0]/.test(v)) return { ok: false, reason: `header ${JSON.stringify(k)} is not sendable` };
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error("timeout")), transport.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const signal = controller.signal;
  let socket: TLSSocket | undefined;
  try {
    const resolved = await resolveChecked(checked.host, transport, signal);
    if (!resolved.ok) return resolved;
    let lastError = "";
    for (const address of resolved.addresses) {
      if (signal.aborted) break;
      try {
        socket = await connectTls(address, checked.port, checked.host, transport.ca, signal);
        break;
      } catch (e) {
        lastError = (e as Error).message;
      }
    }
    if (signal.aborted) return { ok: false, reason: `${checked.host} did not answer within ${(transport.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000} s` };
    if (!socket) return { ok: false, reason: `cannot connect to ${checked.host}: ${lastError}` };

    const hostHeader = checked.port === 443 ? checked.host : `${checked.host}:${checked.port}`;
    const head = [
      `POST ${checked.url.pathname}${checked.url.search} HTTP/1.1`,
      `Host: ${hostHeader}`,
      `User-Agent: voicesrv/${VERSION}`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      `Content-Length: ${body.byteLength}`,
      "Connection: close",
      "",
      "",
    ].join("\r\n");
    socket.write(head);
    socket.write(body);
    const response = await readResponse(socket, transport.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, signal);
    if (!response.ok) return signal.aborted ? { ok: false, reason: `${checked.host} did not answer within ${(transport.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000} s` } : response;
    return response.detail ? { ok: true, status: response.status, detail: response.detail } : { ok: true, status: response.status };
  } finally {
    clearTimeout(timer);
    socket?.destroy();
  }
}

function connectTls(address: string, port: number, servername: string, ca: string | undefined, signal: AbortSignal): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error("timed out"));
    const socket = connect({ host: address, port, servername, ca, ALPNProtocols: ["http/1.1"], minVersion: "TLSv1.2" });
    const fail = (e: Error) => {
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      reject(e);
    };
    const onAbort = () => fail(new Error("timed out"));
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("secureConnect", () => {
      signal.removeEventListener("abort", onAbort);
      socket.removeListener("error", fail);
      resolve(socket);
    });
    socket.once("error", fail);
  });
}

type ReadResult = { ok: true; status: number; detail?: string } | { ok: false; reason: string };

/**
 * The status line, headers and (for an error status) as much of the body as fits in `max` bytes.
 * A success or redirect needs no body: the answer is in the status.
 */
function readResponse(socket: TLSSocket, max: number, signal: AbortSignal): Promise<ReadResult> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let done = false;
    let head: { status: number; headers: Map<string, string>; bodyStart: number } | null = null;
    const finish = (r: ReadResult) => {
      if (done) return;
      done = true;
      signal.removeEventListener("abort", onAbort);
      socket.removeListener("data", onData);
      resolve(r);
    };
    const onAbort = () => finish({ ok: false, reason: "timed out" });
    const withBody = (): ReadResult => ({ ok: true, status: head!.status, detail: summarize(bodyText(buf.subarray(head!.bodyStart), head!.headers)) || undefined });
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk.subarray(0, Math.max(0, max - buf.length))]);
      while (!head) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) {
          if (buf.length >= max) finish({ ok: false, reason: `response headers exceed ${max} bytes` });
          return;
        }
        const lines = buf.subarray(0, end).toString("latin1").split("\r\n");
        const m = lines[0]!.match(/^HTTP\/1\.[01] (\d{3})(?: |$)/);
        if (!m) return finish({ ok: false, reason: "the push service did not answer in HTTP/1.1" });
        const status = Number(m[1]);
        if (status >= 100 && status < 200) {
          // An interim response (100 Continue, 103 Early Hints): the real one follows.
          buf = buf.subarray(end + 4);
          continue;
        }
        const headers = new Map<string, string>();
        for (const line of lines.slice(1)) {
          const i = line.indexOf(":");
          if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
        }
        head = { status, headers, bodyStart: end + 4 };
      }
      if (head.status < 400) return finish({ ok: true, status: head.status });
      const bodyBytes = buf.length - head.bodyStart;
      const length = Number(head.headers.get("content-length"));
      const chunked = /chunked/i.test(head.headers.get("transfer-encoding") ?? "");
      if (buf.length >= max || (Number.isInteger(length) && bodyBytes >= length) || (chunked && buf.subarray(head.bodyStart).includes("0\r\n\r\n"))) finish(withBody());
    };
    const onEnd = () => finish(head ? (head.status < 400 ? { ok: true, status: head.status } : withBody()) : { ok: false, reason: "the push service closed the connection without an answer" });
    signal.addEventListener("abort", onAbort, { once: true });
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("close", onEnd);
    socket.once("error", (e) => finish(head ? withBody() : { ok: false, reason: `connection failed: ${e.message}` }));
  });
}

function bodyText(raw: Buffer, headers: Map<string, string>): string {
  if (!/chunked/i.test(headers.get("transfer-encoding") ?? "")) return raw.toString("utf8");
  const parts: Buffer[] = [];
  let at = 0;
  while (at < raw.length) {
    const eol = raw.indexOf("\r\n", at);
    if (eol < 0) break;
    const size = parseInt(raw.subarray(at, eol).toString("latin1"), 16);
    if (!Number.isFinite(size) || size <= 0) break;
    parts.push(raw.subarray(eol + 2, Math.min(raw.length, eol + 2 + size)));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts).toString("utf8");
}

/**
 * At most 120 characters of an error body for the operator: a JSON "reason"/"message"/"error"
 * when there is one (Apple, Mozilla, FCM), control characters removed, and long token-like runs
 * (an echoed endpoint or key) replaced by "…".
 */
export function summarize(body: string): string {
  let s = body;
  try {
    const j = JSON.parse(body) as Record<string, unknown>;
    const e = j.error as { message?: unknown } | string | undefined;
    const pick = [j.reason, j.message, typeof e === "string" ? e : e?.message].find((x) => typeof x === "string");
    if (typeof pick === "string") s = pick;
  } catch {
    // Not JSON: the text itself.
  }
  s = s.replace(/[\x00-\x1f\x7f]+/g, " ").replace(/[A-Za-z0-9_\-+/=]{24,}/g, "…").replace(/\s+/g, " ").trim();
  return s.length > 120 ? s.slice(0, 119) + "…" : s;
}
