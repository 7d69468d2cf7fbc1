/**
 * A log line for events any client can cause at will (a malformed Host, say): written at most
 * once per interval, with how many happened since the last line, so a scanner cannot fill the
 * journal while the operator still learns that it happens.
 */
import type { Logger } from "./logger.ts";

export class RateLimitedLog {
  private last = -Infinity;
  private pending = 0;

  constructor(
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  warn(line: (count: number) => string): void {
    this.pending++;
    const t = this.now();
    if (t - this.last < this.intervalMs) return;
    this.last = t;
    const n = this.pending;
    this.pending = 0;
    this.log.warn(line(n));
  }
}
