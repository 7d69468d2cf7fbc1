// HTTP requests written byte for byte on a TLS (or plain) socket, for what fetch() will not
// send: no Host header, an empty one, one with spaces or semicolons, HTTP/1.0.
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";

export interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: string;
}

export function rawHttp(port: number, request: string, opts: { tls?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = opts.tls === false ? netConnect({ host: "127.0.0.1", port }) : tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false, servername: "localhost" });
    let raw = "";
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`raw http: no complete answer; got ${JSON.stringify(raw.slice(0, 200))}`));
    }, opts.timeoutMs ?? 5000);
    sock.setEncoding("utf8");
    sock.on(opts.tls === false ? "connect" : "secureConnect", () => sock.write(request));
    sock.on("data", (d: string) => {
      raw += d;
      const split = raw.indexOf("\r\n\r\n");
      if (split < 0) return;
      const head = raw.slice(0, split).split("\r\n");
      const headers = new Map<string, string>();
      for (const line of head.slice(1)) {
        const i = line.indexOf(":");
        headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
      }
      const body = raw.slice(split + 4);
      const len = Number(headers.get("content-length") ?? NaN);
      if (Number.isFinite(len) && Buffer.byteLength(body) < len) return;
      if (!Number.isFinite(len) && headers.get("transfer-encoding") === "chunked" && !body.endsWith("0\r\n\r\n")) return;
      clearTimeout(timer);
      sock.destroy();
      resolve({ status: Number(head[0]!.split(" ")[1]), headers, body });
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
