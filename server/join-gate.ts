// Cheap per-address limits in front of the expensive part of a join (a signature check and a
// database lookup): hellos per minute, and far fewer failed invite proofs per minute, so that
// guessing at a private group or flooding bad hellos costs the server almost nothing.
import { TokenBucket } from "./rate-limiter.ts";

const FORGET_AFTER_MS = 5 * 60_000;

interface Gate {
  joins: TokenBucket;
  failures: TokenBucket;
  lastUsed: number;
}

export class JoinGate {
  private readonly gates = new Map<string, Gate>();
  private sweptAt = performance.now();

  constructor(
    private readonly joinsPerMinute: number,
    private readonly failuresPerMinute: number,
  ) {}

  /** A hello from this address may be checked now. */
  allowJoin(ip: string): boolean {
    return this.gate(ip).joins.take();
  }

  /** Counts a failed signature or proof; false once the address is over its budget. */
  recordFailure(ip: string): boolean {
    return this.gate(ip).failures.take();
  }

  /** True while the address has failures left — checked before verifying anything. */
  mayTry(ip: string): boolean {
    return this.gate(ip).failures.peek() >= 1;
  }

  private gate(ip: string): Gate {
    const now = performance.now();
    if (now - this.sweptAt > FORGET_AFTER_MS) {
      this.sweptAt = now;
      for (const [k, g] of this.gates) if (now - g.lastUsed > FORGET_AFTER_MS) this.gates.delete(k);
    }
    let g = this.gates.get(ip);
    if (!g) {
      g = {
        joins: new TokenBucket(this.joinsPerMinute / 60, Math.max(1, Math.ceil(this.joinsPerMinute / 3))),
        failures: new TokenBucket(this.failuresPerMinute / 60, Math.max(1, this.failuresPerMinute)),
        lastUsed: now,
      };
      this.gates.set(ip, g);
    }
    g.lastUsed = now;
    return g;
  }
}
