// A WebSocket client on a raw TLS socket, for what a normal client cannot do: stop reading
// (a slow receiver) while the server keeps sending, or send frames a WebSocket API refuses to
// (invalid UTF-8, reserved opcodes, pings).
import { connect, type TLSSocket } from "node:tls";
import { TestDevice } from "./test-device.ts";
import { closeOf, readServerFrame } from "./ws-frame.ts";

export class RawWs {
  private buf: Buffer = Buffer.alloc(0);
  private texts: string[] = [];
  private waiting: ((t: string) => void) | null = null;
  /** The server's close frame (code, reason), or code 1006 when the socket ended without one. */
  closed: { code: number; reason: string } | null = null;
  private closeWaiters: ((c: { code: number; reason: string }) => void)[] = [];

  private constructor(private readonly sock: TLSSocket) {}

  /** Opens /ws/<group> and joins it as `device` (a new one unless given); resolves after welcome. */
  static async join(port: number, group: string, device?: TestDevice): Promise<{ raw: RawWs; id: string; device: TestDevice }> {
    const dev = device ?? (await TestDevice.create());
    const raw = await RawWs.open(port, `/ws/${group}`);
    const ch = await raw.nextText((m) => m.t === "challenge");
    raw.sendText(await dev.hello(ch.n as string, group));
    const w = await raw.nextText((m) => m.t === "welcome");
    return { raw, id: w.id as string, device: dev };
  }

  static async open(port: number, path: string): Promise<RawWs> {
    const sock = connect({ host: "127.0.0.1", port, rejectUnauthorized: false, servername: "localhost" });
    await new Promise<void>((r, j) => sock.once("secureConnect", () => r()).once("error", j));
    const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
    sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    const ws = new RawWs(sock);
    await new Promise<void>((resolve, reject) => {
      let head = Buffer.alloc(0);
      const onData = (d: Buffer) => {
        head = Buffer.concat([head, d]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        sock.off("data", onData);
        if (!head.subarray(0, 12).toString().includes("101")) return reject(new Error(head.toString()));
        sock.on("data", (x: Buffer) => ws.onData(x));
        sock.on("close", () => ws.setClosed(1006, ""));
        ws.onData(head.subarray(end + 4));
        resolve();
      };
      sock.on("data", onData);
    });
    return ws;
  }

  private onData(d: Buffer) {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const next = readServerFrame(this.buf);
      if (!next) return;
      this.buf = next.rest;
      const { op, payload } = next.frame;
      if (op === 8) {
        const c = closeOf(payload);
        this.setClosed(c.code, c.reason);
      } else if (op === 1) {
        const t = payload.toString();
        if (this.waiting) {
          const w = this.waiting;
          this.waiting = null;
          w(t);
        } else this.texts.push(t);
      }
    }
  }

  async nextText(pred: (m: any) => boolean = () => true, timeoutMs = 5000): Promise<any> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const i = this.texts.findIndex((t) => pred(JSON.parse(t)));
      if (i >= 0) return JSON.parse(this.texts.splice(i, 1)[0]!);
      if (Date.now() > end) throw new Error("raw ws: timed out");
      await new Promise<void>((r) => {
        const timer = setTimeout(() => {
          this.waiting = null;
          r();
        }, 50);
        this.waiting = (t) => {
          clearTimeout(timer);
          this.texts.push(t);
          r();
        };
      });
    }
  }

  private setClosed(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = { code, reason };
    for (const w of this.closeWaiters.splice(0)) w(this.closed);
  }

  waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("raw ws: socket did not close")), timeoutMs);
      this.closeWaiters.push((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }

  sendText(obj: unknown): void {
    this.sendFrame(1, Buffer.from(JSON.stringify(obj)));
  }

  /** One masked frame with any opcode and payload (FIN set unless `fin` is false). */
  sendFrame(opcode: number, payload: Uint8Array, fin = true): void {
    this.sock.write(encodeClientFrame(opcode, payload, fin));
  }

  /** Stop reading: the kernel buffers fill, then the server's send queue grows. */
  stopReading(): void {
    this.sock.pause();
  }

  destroy(): void {
    this.sock.destroy();
  }
}

/** A client-to-server WebSocket frame (always masked, as RFC 6455 requires of clients). */
export function encodeClientFrame(opcode: number, payload: Uint8Array, fin = true): Buffer {
  const len = payload.length;
  const b0 = (fin ? 0x80 : 0) | (opcode & 0x0f);
  let head: Buffer;
  if (len < 126) head = Buffer.from([b0, 0x80 | len]);
  else if (len < 65536) head = Buffer.from([b0, 0x80 | 126, len >> 8, len & 0xff]);
  else {
    head = Buffer.alloc(10);
    head[0] = b0;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  const mask = Buffer.from(crypto.getRandomValues(new Uint8Array(4)));
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = payload[i]! ^ mask[i & 3]!;
  return Buffer.concat([head, mask, masked]);
}
