// One token bucket per key (an address, a member), forgotten after a few idle minutes so that a
// stream of new keys cannot grow the map without bound.
import { TokenBucket } from "./rate-limiter.ts";

const FORGET_AFTER_MS = 5 * 60_000;

export class KeyedBuckets {
  private readonly buckets = new Map<string, { bucket: TokenBucket; lastUsed: number }>();
  private sweptAt = performance.now();

  /** `perMinute` long-run, `burst` at once (at least 1). */
  constructor(
    private readonly perMinute: number,
    private readonly burst: number,
  ) {}

  take(key: string): boolean {
    return this.get(key).take();
  }

  peek(key: string): number {
    return this.get(key).peek();
  }

  private get(key: string): TokenBucket {
    const now = performance.now();
    if (now - this.sweptAt > FORGET_AFTER_MS) {
      this.sweptAt = now;
      for (const [k, e] of this.buckets) if (now - e.lastUsed > FORGET_AFTER_MS) this.buckets.delete(k);
    }
    let e = this.buckets.get(key);
    if (!e) {
      e = { bucket: new TokenBucket(this.perMinute / 60, Math.max(1, this.burst)), lastUsed: now };
      this.buckets.set(key, e);
    }
    e.lastUsed = now;
    return e.bucket;
  }
}
