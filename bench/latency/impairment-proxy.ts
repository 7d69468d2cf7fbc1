// A user-space TCP proxy on loopback that makes a connection behave like a poor network link,
// for the latency benchmark. (The kernel here has no netem qdisc, and a proxy needs no root.)
//
// It works on the byte stream, not on packets, because that is what a WebSocket sees:
// - delay: every chunk is delivered `delayMs` after it was read (each direction, so the
//   browser↔server round trip grows by 2 × delayMs);
// - jitter: plus a uniform 0…jitterMs extra per chunk — but never before the chunk ahead of it,
//   because TCP delivers in order: jitter on a TCP link shows up as bunching, not reordering;
// - loss: each 1448-byte segment is lost with probability lossPercent; TCP then holds
//   everything behind it until the retransmission, one RTO (200–1000 ms, uniform) later;
// - outage(ms): nothing is delivered for that long; everything sent meanwhile arrives after it.
// TLS passes through untouched (the browsers see the server's own certificate).
import { createServer, connect, type Server, type Socket } from "node:net";
// Seeded so that a condition's loss pattern is the same on every run.
import { prng } from "../../test/helpers/prng.ts";

export interface Impairment {
  /** One-way delay added in each direction. */
  delayMs?: number;
  jitterMs?: number;
  /** Per 1448-byte segment, 0…100. */
  lossPercent?: number;
  rtoMinMs?: number;
  rtoMaxMs?: number;
}

const MSS = 1448;

/** In-order delivery with a per-chunk schedule: one queue and one timer per direction (separate
 *  timers with nearly equal due times may fire out of order). */
class Link {
  private lastDueMs = 0;
  private holdUntilMs = 0;
  private readonly queue: { due: number; chunk: Buffer | null }[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly to: Socket,
    private readonly imp: Required<Impairment>,
    private readonly outageUntil: () => number,
    private readonly random: () => number,
  ) {}

  push(chunk: Buffer): void {
    const now = performance.now();
    let due = now + this.imp.delayMs + this.random() * this.imp.jitterMs;
    const segments = Math.max(1, Math.ceil(chunk.length / MSS));
    for (let i = 0; i < segments; i++) {
      if (this.random() * 100 < this.imp.lossPercent) {
        // The lost segment is resent one RTO after it was first sent; the stream waits for it.
        const rto = this.imp.rtoMinMs + this.random() * (this.imp.rtoMaxMs - this.imp.rtoMinMs);
        this.holdUntilMs = Math.max(this.holdUntilMs, now + rto + this.imp.delayMs);
      }
    }
    due = Math.max(due, this.lastDueMs, this.holdUntilMs, this.outageUntil());
    this.lastDueMs = due;
    this.queue.push({ due, chunk });
    this.schedule();
  }

  /** Ends the stream after everything scheduled so far has been delivered. */
  end(): void {
    this.queue.push({ due: this.lastDueMs, chunk: null });
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      // An outage that began after these were scheduled holds them too.
      const hold = this.outageUntil();
      const now = performance.now();
      while (this.queue.length && this.queue[0]!.due <= now && hold <= now) {
        const { chunk } = this.queue.shift()!;
        if (this.to.destroyed) continue;
        if (chunk) this.to.write(chunk);
        else this.to.end();
      }
      if (this.queue.length && hold > now) for (const q of this.queue) q.due = Math.max(q.due, hold);
      this.schedule();
    }, Math.max(0, this.queue[0]!.due - performance.now()));
  }
}

export interface ImpairmentProxy {
  port: number;
  /** Holds all traffic (both directions, every connection) for `ms` from now. */
  outage(ms: number): void;
  close(): Promise<void>;
}


export async function startImpairmentProxy(upstreamPort: number, impairment: Impairment, seed = 1): Promise<ImpairmentProxy> {
  const imp: Required<Impairment> = { delayMs: 0, jitterMs: 0, lossPercent: 0, rtoMinMs: 200, rtoMaxMs: 1000, ...impairment };
  const random = prng(seed);
  let outageUntilMs = 0;
  const outageUntil = () => outageUntilMs;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(upstreamPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    const up = new Link(upstream, imp, outageUntil, random);
    const down = new Link(client, imp, outageUntil, random);
    client.on("data", (c: Buffer) => up.push(c));
    upstream.on("data", (c: Buffer) => down.push(c));
    client.on("end", () => up.end());
    upstream.on("end", () => down.end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    outage(ms) {
      outageUntilMs = Math.max(outageUntilMs, performance.now() + ms);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
