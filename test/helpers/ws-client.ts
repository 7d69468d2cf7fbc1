// A real WSS client for integration tests, with a message queue to await specific messages.
import type { ServerMessage } from "../../protocol/messages.ts";
import { TestDevice } from "./test-device.ts";

export interface OpenOptions {
  /** false: stop after the challenge, send no hello. */
  hello?: boolean;
  /** Reuse an identity (a reload, a second tab, a resume); a new one otherwise. */
  device?: TestDevice;
  name?: string;
  /** The private group's secret G from the invite link. */
  secret?: Uint8Array;
  /** With secret: create the private group (send its joinKey). */
  create?: boolean;
  headers?: Record<string, string>;
}

export class TestClient {
  readonly ws: WebSocket;
  readonly messages: ServerMessage[] = [];
  readonly frames: Uint8Array[] = [];
  private readonly seen = new WeakSet<ServerMessage>();
  private waiters: { pred: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
  closed: { code: number; reason: string } | null = null;
  private closeWaiters: ((c: { code: number; reason: string }) => void)[] = [];
  id = "";
  /** The server's challenge for this socket. */
  n = "";
  device!: TestDevice;

  private constructor(url: string, headers?: Record<string, string>) {
    // Tests trust the server's freshly generated self-signed certificate.
    this.ws = new WebSocket(url, { tls: { rejectUnauthorized: false }, headers } as any);
    this.ws.binaryType = "arraybuffer";
    this.ws.onmessage = (ev) => {
      if (typeof ev.data === "string") {
        const m = JSON.parse(ev.data) as ServerMessage;
        this.messages.push(m);
        const i = this.waiters.findIndex((w) => w.pred(m));
        if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
      } else {
        this.frames.push(new Uint8Array(ev.data as ArrayBuffer));
      }
    };
    this.ws.onclose = (ev) => {
      this.closed = { code: ev.code, reason: ev.reason };
      for (const w of this.closeWaiters) w(this.closed);
    };
  }

  /** Opens a socket and, unless hello is false, joins as a device (a new one unless given). */
  static async open(url: string, opts: OpenOptions = {}): Promise<TestClient> {
    const device = opts.device ?? (await TestDevice.create());
    const c = new TestClient(url, opts.headers);
    c.device = device;
    await new Promise<void>((resolve, reject) => {
      c.ws.onopen = () => resolve();
      c.ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
    c.n = (await c.next("challenge")).n;
    if (opts.hello !== false) {
      c.send(await c.device.hello(c.n, TestClient.groupOf(url), opts));
      const w = await c.nextMatching((m) => m.t === "welcome" || (m.t === "error" && m.ref === "hello"));
      if (w.t !== "welcome") throw new Error(`hello refused: ${JSON.stringify(w)}`);
      c.id = w.id;
    }
    return c;
  }

  static groupOf(url: string): string {
    return new URL(url).pathname.split("/").at(-1)!;
  }

  /** Sends this device's hello for the socket's group (after open with hello: false). */
  async sendHello(opts: Omit<OpenOptions, "hello" | "device" | "headers"> = {}, group = TestClient.groupOf(this.ws.url)): Promise<void> {
    this.send(await this.device.hello(this.n, group, opts));
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === "string" ? msg : JSON.stringify(msg));
  }

  /** Resolves with the first message (already received and not yet consumed, or future) matching. */
  next<T extends ServerMessage["t"]>(t: T, pred: (m: Extract<ServerMessage, { t: T }>) => boolean = () => true, timeoutMs = 5000): Promise<Extract<ServerMessage, { t: T }>> {
    return this.nextMatching((m) => m.t === t && pred(m as Extract<ServerMessage, { t: T }>), timeoutMs, t) as Promise<Extract<ServerMessage, { t: T }>>;
  }

  nextMatching(match: (m: ServerMessage) => boolean, timeoutMs = 5000, what = "a matching message"): Promise<ServerMessage> {
    const idx = this.messages.findIndex((m) => match(m) && !this.seen.has(m));
    if (idx >= 0) {
      this.seen.add(this.messages[idx]!);
      return Promise.resolve(this.messages[idx]!);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for "${what}"; got ${JSON.stringify(this.messages.map((m) => m.t))}`)), timeoutMs);
      this.waiters.push({
        pred: match,
        resolve: (m) => {
          clearTimeout(timer);
          this.seen.add(m);
          resolve(m);
        },
      });
    });
  }

  waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("socket did not close")), timeoutMs);
      this.closeWaiters.push((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }

  async waitFrames(n: number, timeoutMs = 5000): Promise<Uint8Array[]> {
    const end = Date.now() + timeoutMs;
    while (this.frames.length < n && Date.now() < end) await Bun.sleep(5);
    return this.frames;
  }

  close(code = 1000): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code);
  }
}
