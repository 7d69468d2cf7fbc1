// How much delay the jitter buffer must add to ride out stalls that keep coming back.
//
// Over TCP a lost segment holds everything behind it for one retransmission timeout
// (200–1000 ms), then the backlog arrives at once. A stall now and then (a radio hiccup, a
// handover) is best dropped: covering it would play the whole call that late, so the jitter
// buffer lets it run dry and then drops the backlog down to its usual delay. But on a lossy link
// stalls come every second or two, and dropping every backlog throws away most of the speech:
// with 3 % of segments lost, 60–70 % of every second was dropped (speech correlation 0.48–0.61
// in bench:latency, 2026-12-02). Losing words is worse than hearing them late, so once stalls
// recur the buffer covers them: a delay that lasts as long as they keep coming, bounded by
// `maxMs`, and that goes away by itself once they stop.
//
// This is WebRTC NetEQ's "peak mode" (DelayPeakDetector: delay peaks that recur within 10 s make
// the target the highest recent peak), with these choices, measured with a simulation of the
// benchmark's lossy proxy and then in bench:latency (BENCHMARKS.md):
// - Recur: `after` (3) stalls within `recurMs` (10 s). One outage, or two, does not raise the
//   delay (the stall catch-up is measured on a 2 s outage); a link that stalls every few seconds
//   does. (An outage whose backlog TCP then delivers in rounds 300 ms or more apart — a very slow
//   link — can count as several: each round runs the buffer dry.)
// - Steady while they recur: once on, the cover stays on until no stall has come for `holdMs`
//   (10 s), and its level is the longest stall of the last `levelMemoryMs` (30 s). Every drop
//   of the level makes the buffer catch up, which drops speech: with the level and the on/off
//   decision both taken over the last 10 s, a link stalling about every 2 s went on and off and
//   up and down, and lost about as much speech as before (bench:latency, 2026-12-02 05:11).
// - How much: the longest remembered stall. Covering only the median one (tried) kept a delay
//   of 700 ms and still dropped a quarter of the speech, in pieces: every stall longer than the
//   cover costs a jump, and a jump in every other second is what makes speech unintelligible.
// - Bounded by `maxMs` (1 s): past that a conversation breaks down however complete the words,
//   and 1.5 s gained nothing measurable in the simulation.
// - Forgetting: once off, the jitter buffer's target falls as it does after jitter (hold, then
//   exponential), and its catch-up drops the surplus.
// Only a stall that holds the stream counts: the jitter buffer reports its head (the newest frame
// yet, arriving that late), never a single straggler arriving after later frames.
// Pure code: the caller passes the clock.

export interface StallCoverOptions {
  /** Stalls within recurMs that make them recurring… */
  after?: number;
  recurMs?: number;
  /** …and how long after the last stall the cover stays on. */
  holdMs?: number;
  /** How long a stall's length still counts for the cover's level. */
  levelMemoryMs?: number;
  /** The cover's bound; 0 turns covering off. */
  maxMs?: number;
}

const DEFAULTS: Required<StallCoverOptions> = { after: 3, recurMs: 10_000, holdMs: 10_000, levelMemoryMs: 30_000, maxMs: 1000 };

export class StallCover {
  private readonly o: Required<StallCoverOptions>;
  private readonly stalls: { atMs: number; lengthMs: number }[] = [];
  private engaged = false;

  constructor(options: StallCoverOptions = {}) {
    this.o = { ...DEFAULTS, ...options };
  }

  /** A stall ended at `atMs`: the stream had held for `lengthMs`. */
  note(atMs: number, lengthMs: number): void {
    this.releaseIfCalm(atMs);
    this.stalls.push({ atMs, lengthMs });
    this.forget(atMs);
    let recent = 0;
    for (const s of this.stalls) if (atMs - s.atMs <= this.o.recurMs) recent++;
    if (recent >= this.o.after) this.engaged = true;
  }

  /** The delay that covers the recurring stalls as of `nowMs`, or 0 while they do not recur. */
  coverMs(nowMs: number): number {
    this.forget(nowMs);
    this.releaseIfCalm(nowMs);
    if (this.o.maxMs <= 0 || !this.engaged) return 0;
    let longest = 0;
    for (const s of this.stalls) longest = Math.max(longest, s.lengthMs);
    return Math.min(this.o.maxMs, longest);
  }

  reset(): void {
    this.stalls.length = 0;
    this.engaged = false;
  }

  /** Off once no stall has come for holdMs. */
  private releaseIfCalm(nowMs: number): void {
    const last = this.stalls[this.stalls.length - 1];
    if (!last || nowMs - last.atMs > this.o.holdMs) this.engaged = false;
  }

  private forget(nowMs: number): void {
    while (this.stalls.length && nowMs - this.stalls[0]!.atMs > this.o.levelMemoryMs) this.stalls.shift();
  }
}
