// Puts arriving frames back in sequence order before they are decoded. Opus is stateful: a
// frame decoded after its successor comes out wrong and disturbs the frames after it, and now
// that frames are decoded on arrival (the jitter buffer sorts PCM, not payloads), the order of
// decoding is the order of arrival. Over one TCP connection frames arrive in order, but the
// asynchronous decryption before this point promises nothing, and a gap (a frame the sender
// skipped, or one still under way) must not hold up everything after it for long.
//
// Rule: in-order frames go straight through; a frame after a gap waits up to `holdMs` (60 ms) for the
// missing ones; when that expires, the gap is given up and what waited goes through. A frame
// older than what already went through is dropped (its slot has been passed; decoding it would
// only disturb the decoder). Pure: the caller passes the clock and calls expire() on a timer.
export class DecodeOrder<T> {
  private next: number | null = null;
  private readonly held = new Map<number, { item: T; atMs: number }>();
  dropped = 0;

  constructor(
    private readonly emit: (seq: number, item: T) => void,
    private readonly holdMs = 60,
  ) {}

  push(seq: number, item: T, nowMs: number): void {
    if (this.next === null || (seq === this.next && this.held.size === 0)) {
      this.emit(seq, item);
      this.next = seq + 1;
      return;
    }
    if (seq < this.next || this.held.has(seq)) {
      this.dropped++;
      return;
    }
    this.held.set(seq, { item, atMs: nowMs });
    this.release();
    this.expire(nowMs);
  }

  /** Gives up gaps that held frames have waited on for holdMs; returns ms until the next expiry, or null. */
  expire(nowMs: number): number | null {
    for (;;) {
      if (this.held.size === 0) return null;
      let oldestSeq = Infinity;
      let oldestAt = Infinity;
      for (const [s, h] of this.held) {
        if (s < oldestSeq) oldestSeq = s;
        if (h.atMs < oldestAt) oldestAt = h.atMs;
      }
      if (nowMs - oldestAt < this.holdMs) return this.holdMs - (nowMs - oldestAt);
      this.next = oldestSeq;
      this.release();
    }
  }

  private release(): void {
    for (let h = this.held.get(this.next!); h; h = this.held.get(this.next!)) {
      this.held.delete(this.next!);
      this.emit(this.next!, h.item);
      this.next! += 1;
    }
  }
}
