// A real WSS client for integration tests, with a message queue to await specific messages.
import type { ServerMessage } from "../../protocol/messages.ts";

export class TestClient {
  readonly ws: WebSocket;
  readonly messages: ServerMessage[] = [];
  readonly frames: Uint8Array[] = [];
  private readonly seen = new WeakSet<ServerMessage>();
  private waiters: { pred: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
  closed: { code: number; reason: string } | null = null;
  private closeWaiters: ((c: { code: number; reason: string }) => void)[] = [];
  id = "";
  token = "";

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

  static async open(url: string, opts: { hello?: boolean; resume?: string; headers?: Record<string, string> } = {}): Promise<TestClient> {
    const c = new TestClient(url, opts.headers);
    await new Promise<void>((resolve, reject) => {
      c.ws.onopen = () => resolve();
      c.ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
    if (opts.hello !== false) {
      c.send(opts.resume ? { t: "hello", v: 1, resume: opts.resume } : { t: "hello", v: 1 });
      const w = (await c.next("welcome")) as Extract<ServerMessage, { t: "welcome" }>;
      c.id = w.id;
      c.token = w.token;
    }
    return c;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === "string" ? msg : JSON.stringify(msg));
  }

  /** Resolves with the first message (already received and not yet consumed, or future) matching. */
  next<T extends ServerMessage["t"]>(t: T, pred: (m: Extract<ServerMessage, { t: T }>) => boolean = () => true, timeoutMs = 5000): Promise<Extract<ServerMessage, { t: T }>> {
    const match = (m: ServerMessage) => m.t === t && pred(m as Extract<ServerMessage, { t: T }>);
    const idx = this.messages.findIndex((m) => match(m) && !this.seen.has(m));
    if (idx >= 0) {
      this.seen.add(this.messages[idx]!);
      return Promise.resolve(this.messages[idx] as Extract<ServerMessage, { t: T }>);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for "${t}"; got ${JSON.stringify(this.messages.map((m) => m.t))}`)), timeoutMs);
      this.waiters.push({
        pred: match,
        resolve: (m) => {
          clearTimeout(timer);
          this.seen.add(m);
          resolve(m as Extract<ServerMessage, { t: T }>);
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
