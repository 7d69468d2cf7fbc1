// Round trip to the server for "Call details": a ping every few seconds while a call shows its
// details, timed to the matching pong. The media path is browser → server → browser, so twice
// this is a fair estimate of the peer-to-peer round trip when both are on similar links.
import type { Connection } from "./connection.ts";

const EVERY_MS = 5000;

export class RoundTrip {
  /** Latest measurement, null until the first pong. */
  ms: number | null = null;
  private sentAt: number | null = null;
  private lastSent = -Infinity;
  private readonly off: () => void;

  constructor(private readonly conn: Connection) {
    this.off = conn.on("message", (m) => {
      if (m.t !== "pong" || this.sentAt === null) return;
      this.ms = performance.now() - this.sentAt;
      this.sentAt = null;
    });
  }

  /** Call often; sends a ping when one is due. A pong lost to a reconnect just times out. */
  tick(): void {
    const now = performance.now();
    if (now - this.lastSent < EVERY_MS) return;
    this.lastSent = now;
    if (this.conn.send({ t: "ping" })) this.sentAt = now;
  }

  stop(): void {
    this.off();
  }
}
