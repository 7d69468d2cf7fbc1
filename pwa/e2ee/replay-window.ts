// PROTOCOL.md §6: sliding replay window of 128 sequence numbers, one per (direction, epoch).
// Callers check before decrypting (cheap rejection) but mark only after the frame
// authenticated: a forged frame must never move the window, or it could push genuine
// frames out of it.

export const REPLAY_WINDOW = 128;

export type ReplayVerdict = "fresh" | "replayed" | "tooOld";

export class ReplayWindow {
  private top = -1; // highest accepted seq, -1 before the first
  private readonly seen = new Uint32Array(REPLAY_WINDOW / 32); // bit (seq mod 128)

  check(seq: number): ReplayVerdict {
    if (seq > this.top) return "fresh";
    if (this.top - seq >= REPLAY_WINDOW) return "tooOld";
    return this.bit(seq) ? "replayed" : "fresh";
  }

  /** Only for a seq whose check() was "fresh" and whose frame authenticated. */
  mark(seq: number): void {
    if (seq > this.top) {
      // Slots between the old top and seq now stand for new, unseen numbers.
      const clear = Math.min(seq - this.top, REPLAY_WINDOW);
      for (let i = 1; i <= clear; i++) this.setBit(this.top + i, false);
      this.top = seq;
    }
    this.setBit(seq, true);
  }

  private bit(seq: number): boolean {
    const i = seq % REPLAY_WINDOW;
    return (this.seen[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  private setBit(seq: number, on: boolean): void {
    const i = seq % REPLAY_WINDOW;
    const w = i >>> 5;
    if (on) this.seen[w] = this.seen[w]! | (1 << (i & 31));
    else this.seen[w] = this.seen[w]! & ~(1 << (i & 31));
  }
}
