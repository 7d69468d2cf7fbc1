// A WebSocket client on a raw TLS socket that sends whatever bytes the fuzzer makes — invalid
// UTF-8, reserved opcodes, fragments, frames of any length — and decodes what the server sends
// back. Writes are batched (one socket write per batch), so the fuzzer is limited by the server,
// not by per-message overhead here.
import { connect, type TLSSocket } from "node:tls";
import { closeOf, readServerFrame } from "../helpers/ws-frame.ts";

export interface SocketEvents {
  text(t: string): void;
  binary(b: Buffer): void;
  /** code 1006 when the connection ended without a close frame. */
  close(code: number, reason: string): void;
}

export class FuzzSocket {
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;
  /** Fragments of a message the server sent in pieces (it never does, but decode it right). */
  private frag: Buffer[] = [];
  private fragOp = 0;

  private constructor(
    private readonly sock: TLSSocket,
    private readonly on: SocketEvents,
  ) {}

  static open(port: number, path: string, on: SocketEvents, extraHeaders = ""): Promise<FuzzSocket> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host: "127.0.0.1", port, rejectUnauthorized: false, servername: "localhost" });
      const ws = new FuzzSocket(sock, on);
      let head = Buffer.alloc(0);
      let upgraded = false;
      sock.once("secureConnect", () => {
        const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
        sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`);
      });
      const onData = (d: Buffer) => {
        if (upgraded) return ws.onData(d);
        head = Buffer.concat([head, d]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        const status = head.subarray(0, head.indexOf("\r\n")).toString();
        if (!/^HTTP\/1\.1 101/.test(status)) {
          sock.destroy();
          return reject(new Error(`upgrade refused: ${status}`));
        }
        upgraded = true;
        resolve(ws);
        ws.onData(head.subarray(end + 4));
      };
      sock.on("data", onData);
      sock.on("error", (e) => {
        if (!upgraded) reject(e);
      });
      sock.on("close", () => {
        if (upgraded) ws.finish(1006, "");
      });
    });
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  write(bytes: Buffer): void {
    if (!this.ended) this.sock.write(bytes);
  }

  /** A clean close (1000) — so the server does not hold the member for a resume. */
  close(): void {
    if (this.ended) return;
    this.sock.write(Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]));
    this.finish(1000, "closed by the client");
    this.sock.end();
    setTimeout(() => this.sock.destroy(), 1000).unref?.();
  }

  destroy(): void {
    this.sock.destroy();
  }

  private finish(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.on.close(code, reason);
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      const next = readServerFrame(this.buf);
      if (!next) return;
      this.buf = next.rest;
      const { fin, op, payload } = next.frame;
      if (op === 8) {
        const c = closeOf(payload);
        this.finish(c.code, c.reason);
        this.sock.end();
        continue;
      }
      if (op === 9 || op === 10) continue; // Bun's keep-alive pings; the kernel-level pong is not needed here
      if (op !== 0) {
        this.fragOp = op;
        this.frag = [];
      }
      this.frag.push(Buffer.from(payload));
      if (!fin) continue;
      const whole = this.frag.length === 1 ? this.frag[0]! : Buffer.concat(this.frag);
      this.frag = [];
      if (this.fragOp === 1) this.on.text(whole.toString("utf8"));
      else if (this.fragOp === 2) this.on.binary(whole);
    }
  }
}
