// Cheap per-address limits in front of the expensive part of a join (a signature check and a
// database lookup): hellos per minute, and far fewer failed invite proofs per minute, so that
// guessing at a private group or flooding bad hellos costs the server almost nothing.
import { KeyedBuckets } from "./keyed-buckets.ts";

export class JoinGate {
  private readonly joins: KeyedBuckets;
  private readonly failures: KeyedBuckets;

  constructor(joinsPerMinute: number, failuresPerMinute: number) {
    this.joins = new KeyedBuckets(joinsPerMinute, Math.ceil(joinsPerMinute / 3));
    this.failures = new KeyedBuckets(failuresPerMinute, failuresPerMinute);
  }

  /** A hello from this address may be checked now. */
  allowJoin(ip: string): boolean {
    return this.joins.take(ip);
  }

  /** Counts a failed signature or proof; false once the address is over its budget. */
  recordFailure(ip: string): boolean {
    return this.failures.take(ip);
  }

  /** True while the address has failures left — checked before verifying anything. */
  mayTry(ip: string): boolean {
    return this.failures.peek(ip) >= 1;
  }
}
