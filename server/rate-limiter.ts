/**
 * Token bucket: allows short bursts (a call setup sends a few messages at once) while holding
 * the long-run rate to `perSecond`. Counts refusals so a flooding client can be told apart
 * from one that was briefly too fast.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  refusedInWindow = 0;
  private windowStart: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
    this.windowStart = this.last;
  }

  /** Tokens available now, without taking one. */
  peek(): number {
    this.refill();
    return this.tokens;
  }

  take(): boolean {
    // Refilled only when the bucket runs dry: the total allowed over any span is the same
    // (burst + rate × time), and a sender within its budget costs no clock read — every media
    // frame passes here, and reading the clock is a large share of a frame's JavaScript cost.
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    const t = this.refill();
    if (t - this.windowStart > 10_000) {
      this.windowStart = t;
      this.refusedInWindow = 0;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.refusedInWindow++;
    return false;
  }

  private refill(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    return t;
  }
}
