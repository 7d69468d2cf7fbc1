// Puts arriving frames back in sequence order before they are decoded. Opus is stateful: a
// frame decoded after its successor comes out wrong and disturbs the frames after it, and now
// that frames are decoded on arrival (the jitter buffer sorts PCM, not payloads), the order of
// decoding is the order of arrival. Over one TCP connection frames arrive in order, but the
// asynchronous decryption before this point promises nothing, and a gap (a frame the sender
// skipped, or one still under way) must not hold up everything after it for long.
//
// Rule: in-order frames go straight through; a frame after a gap waits for the missing ones until
// the jitter buffer has given their slots up (giveUpThrough(): it conceals them on schedule) or,
// failing word from it, `holdMs` (60 ms); then what waited goes through. A frame older than what
// already went through is dropped (its slot has been passed; decoding it would only disturb the
// decoder). Pure: the caller passes the clock and calls expire() on a timer.
//
// Why the buffer decides: a frame the sender never sent (a stale capture it skipped, the
// simulated loss of a test) leaves a gap that never fills. Held for a fixed 60 ms, every frame
// behind it reached the buffer up to 60 ms late: with a buffer 60–80 ms deep that ran it dry at
// each loss, and one lost frame became two or three concealed ones, silence, a restart 20–40 ms
// late and skips to catch up (the speech-correlation test's flakiness in 2026-12). Waiting
// longer than the missing frame's slot gains nothing; waiting less loses a frame that was only
// overtaken. `onHold` lets the buffer know a held frame exists (announce()), so that it conceals
// the gap instead of stretching while it waits.
export class DecodeOrder<T> {
  private next: number | null = null;
  private readonly held = new Map<number, { item: T; atMs: number }>();
  dropped = 0;

  constructor(
    private readonly emit: (seq: number, item: T) => void,
    private readonly holdMs = 60,
    private readonly onHold?: (seq: number) => void,
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
    if (this.held.has(seq)) this.onHold?.(seq);
    this.expire(nowMs);
  }

  /** Nothing up to `seq` is wanted any more (the playout has passed it): stop waiting for it. */
  giveUpThrough(seq: number): void {
    if (this.next === null || seq < this.next) return;
    for (const s of [...this.held.keys()]) {
      if (s <= seq) {
        this.held.delete(s);
        this.dropped++;
      }
    }
    this.next = seq + 1;
    this.release();
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
