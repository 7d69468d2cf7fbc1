// Adaptive jitter buffer: turns payloads that arrive irregularly (WebSocket over TCP, so late
// rather than lost, and in bursts) into one decision per 20 ms playout tick.
//
// Pure code (no DOM, no timers): the caller passes the clock, which makes every behaviour
// reproducible in unit tests.
//
// Timeline. The sender numbers every payload it sends, but with Opus DTX (and while muted) it
// sends nothing for a while without skipping numbers, so `seq * 20 ms` is NOT the sender's clock
// across a silence. We therefore measure delay only *relative* between neighbouring arrivals
// (RFC 3550 §A.8 style), and treat a long arrival gap that happened while the buffer had run dry
// as the start of a new talkspurt: it re-anchors the timeline instead of counting as jitter or
// loss. Missing sequence numbers are the only thing counted as loss.
//
// Delay control. Target delay = a high percentile of recent "excess delay" (how much later than
// the best recent frame a frame arrived) plus one frame of margin, clamped to [min, max]. It
// rises immediately when the percentile rises and falls slowly (after a hold time) when calm.
// Playout starts a talkspurt on schedule for that target; when the buffer holds clearly more
// than the target (e.g. after a burst), single frames are skipped to bring the delay back down.
//
// Statistics come twice: whole-call totals (stats()) for diagnostics, and the last few seconds
// by wall clock (recent()) for the quality indicator, which must recover after a blip.
import { RecentWindow, type RecentStats } from "./recent-stats.ts";

export type { RecentStats } from "./recent-stats.ts";

export type PopResult =
  | { kind: "frame"; seq: number; payload: Uint8Array; /** frames skipped just before this one to cut delay */ skipped?: number }
  | { kind: "conceal"; seq: number }
  | { kind: "silence" };

export interface JitterBufferOptions {
  frameMs?: number;
  initialDelayMs?: number;
  minDelayMs?: number;
  maxDelayMs?: number;
  /** An arrival gap longer than this, when the buffer was empty, starts a new talkspurt. */
  talkspurtGapMs?: number;
  /** Percentile (0..1) of recent excess delay the target must cover. */
  percentile?: number;
  /** How many recent arrivals the percentile is taken over. */
  windowFrames?: number;
  /** Time without a new peak before the target starts shrinking. */
  holdMs?: number;
  /** Shrink rate once calm. */
  decayMsPerSecond?: number;
  /** Frames further than this from the expected seq mean the sender restarted: resynchronise. */
  resyncFrames?: number;
  /** recent() covers this much wall-clock time. */
  recentWindowMs?: number;
}

export interface JitterBufferStats {
  received: number;
  played: number;
  concealed: number;
  late: number;
  duplicate: number;
  /** Frames dropped on purpose to shrink delay, or because the buffer overflowed. */
  skipped: number;
  /** Playout ticks that found the buffer empty mid-talkspurt. */
  underruns: number;
  /** Playout slots so far, and how many of them had no frame (concealed, or passed over). */
  slots: number;
  lost: number;
  /** Over the whole call. */
  lossPercent: number;
  /** RFC 3550 interarrival jitter (running estimate, gain 1/16). */
  jitterMs: number;
  targetDelayMs: number;
  bufferedMs: number;
}

interface Slot {
  payload: Uint8Array;
  arrivalMs: number;
  excessMs: number;
}

/** Ticks the playout delay must stay > 1 frame over target before a frame is skipped (200 ms)… */
const SKIP_AFTER_TICKS = 10;
/** …and then at most one skip per this many ticks while it stays over. */
const SKIP_EVERY_TICKS = 4;

const DEFAULTS: Required<JitterBufferOptions> = {
  frameMs: 20,
  initialDelayMs: 60,
  minDelayMs: 40,
  maxDelayMs: 200,
  talkspurtGapMs: 300,
  percentile: 0.95,
  windowFrames: 150,
  holdMs: 2000,
  decayMsPerSecond: 20,
  resyncFrames: 500,
  recentWindowMs: 5000,
};

export class JitterBuffer {
  private readonly o: Required<JitterBufferOptions>;
  private readonly slots = new Map<number, Slot>();
  private maxSeqBuffered = -Infinity;

  private nextSeq: number | null = null;
  private playing = false;
  private overTicks = 0;

  // Relative-delay tracking.
  private lastArrivalMs: number | null = null;
  private lastArrivalSeq = 0;
  private offsetMs = 0;
  private jitter = 0;
  private readonly recentRel: { seq: number; relMs: number }[] = [];
  private target: number;
  private lastPeakAtMs = 0;
  private lastUpdateMs: number | null = null;
  /** What the current window still needs; shrinking never goes below it. */
  private floor = 0;

  // Which recent seqs were really played, to tell duplicates of played frames from late ones.
  private readonly playedSeqs = new Set<number>();
  private readonly playedOrder: number[] = [];
  private readonly window: RecentWindow;

  private counters = { received: 0, played: 0, concealed: 0, late: 0, duplicate: 0, skipped: 0, underruns: 0, slots: 0, lost: 0 };

  constructor(options: JitterBufferOptions = {}) {
    this.o = { ...DEFAULTS, ...options };
    this.target = this.o.initialDelayMs;
    this.window = new RecentWindow({ windowMs: this.o.recentWindowMs });
  }

  push(seq: number, payload: Uint8Array, arrivalMs: number): void {
    this.counters.received++;
    if (this.nextSeq !== null && Math.abs(seq - this.nextSeq) > this.o.resyncFrames) this.resync();
    if (this.slots.has(seq) || this.playedSeqs.has(seq)) {
      this.counters.duplicate++;
      return;
    }
    const late = this.nextSeq !== null && seq < this.nextSeq;
    // Late frames are measured too: they are exactly the evidence that the target is too small.
    const excessMs = this.measure(seq, arrivalMs, !late);
    if (late) {
      this.counters.late++;
      this.window.late(arrivalMs);
      return;
    }
    this.slots.set(seq, { payload, arrivalMs, excessMs });
    if (seq > this.maxSeqBuffered) this.maxSeqBuffered = seq;

    // Bound memory: a buffer this far beyond the cap can only be a stall followed by a flood.
    const limit = Math.ceil((this.o.maxDelayMs * 4) / this.o.frameMs);
    while (this.slots.size > limit) {
      const oldest = this.lowestBuffered()!;
      this.slots.delete(oldest);
      this.counters.skipped++;
      if (this.nextSeq !== null && oldest >= this.nextSeq) this.nextSeq = oldest + 1;
    }
  }

  pop(nowMs: number): PopResult {
    this.decay(nowMs);

    if (!this.playing || this.nextSeq === null) {
      const first = this.lowestBuffered();
      if (first === null) return { kind: "silence" };
      const slot = this.slots.get(first)!;
      // Start on schedule: a frame that itself arrived late needs correspondingly less waiting.
      const wait = Math.max(0, this.target - slot.excessMs);
      if (nowMs + this.o.frameMs / 2 < slot.arrivalMs + wait) return { kind: "silence" };
      // Anything before the first buffered frame was due during the silence we already played.
      if (this.nextSeq !== null) for (let s = this.nextSeq; s < first; s++) this.recordSlot(nowMs, true);
      this.nextSeq = first;
      this.playing = true;
    }

    // Skip only on a *sustained* surplus: a momentary burst drains by itself, and every skip is
    // an audible discontinuity (crossfaded, but still 20 ms of speech gone).
    // "Playout delay" = how long the frame waited here plus how late it arrived compared with the
    // best recent frame: the quantity the target describes. Ticks are 20 ms apart, so allow one frame.
    let skipped = 0;
    const head = this.slots.get(this.nextSeq);
    const over = head ? nowMs - head.arrivalMs + head.excessMs - this.target : 0;
    this.overTicks = over > this.o.frameMs ? this.overTicks + 1 : 0;
    if (this.overTicks >= SKIP_AFTER_TICKS && this.slots.has(this.nextSeq) && this.slots.has(this.nextSeq + 1)) {
      this.slots.delete(this.nextSeq);
      this.nextSeq++;
      this.counters.skipped++;
      this.overTicks = SKIP_AFTER_TICKS - SKIP_EVERY_TICKS;
      skipped = 1;
    }

    const seq = this.nextSeq;
    const slot = this.slots.get(seq);
    if (slot) {
      this.slots.delete(seq);
      this.nextSeq = seq + 1;
      this.counters.played++;
      this.rememberPlayed(seq);
      this.recordSlot(nowMs, false);
      return skipped ? { kind: "frame", seq, payload: slot.payload, skipped } : { kind: "frame", seq, payload: slot.payload };
    }
    if (this.slots.size > 0) {
      this.nextSeq = seq + 1;
      this.counters.concealed++;
      this.window.concealed(nowMs);
      this.recordSlot(nowMs, true);
      return { kind: "conceal", seq };
    }
    // Empty mid-talkspurt: DTX, mute, or a delay spike. Keep nextSeq — if the frame turns up it is
    // still playable — and start the next talkspurt on schedule.
    this.playing = false;
    this.counters.underruns++;
    return { kind: "silence" };
  }

  stats(): JitterBufferStats {
    return {
      ...this.counters,
      lossPercent: this.counters.slots ? (100 * this.counters.lost) / this.counters.slots : 0,
      jitterMs: this.jitter,
      targetDelayMs: this.target,
      bufferedMs: this.bufferedMs(),
    };
  }

  /** The last recentWindowMs before nowMs (default: the latest time this buffer was given). */
  recent(nowMs?: number): RecentStats {
    return this.window.stats(nowMs);
  }

  /** Measures the frame's delay relative to its neighbours; returns its excess over the best recent frame. */
  private measure(seq: number, arrivalMs: number, inOrder: boolean): number {
    const f = this.o.frameMs;
    if (this.lastArrivalMs !== null) {
      const d = arrivalMs - this.lastArrivalMs - (seq - this.lastArrivalSeq) * f;
      if (inOrder && d > this.o.talkspurtGapMs && this.slots.size === 0) {
        // Silence on the sender's side (DTX or mute), not network delay: shift the timeline.
        this.offsetMs += d;
      } else {
        this.jitter += (Math.abs(d) - this.jitter) / 16;
        this.window.arrival(arrivalMs, Math.abs(d));
      }
    }
    this.lastArrivalMs = arrivalMs;
    this.lastArrivalSeq = seq;

    const relMs = arrivalMs - seq * f - this.offsetMs;
    this.recentRel.push({ seq, relMs });
    if (this.recentRel.length > this.o.windowFrames) this.recentRel.shift();
    let best = Infinity;
    for (const r of this.recentRel) if (r.relMs < best) best = r.relMs;
    const excess = relMs - best;

    // Allow as many outliers as a full window would: with only a few frames seen (call start,
    // typically a burst) a plain percentile is the maximum and one slow start would set the delay.
    const sorted = this.recentRel.map((r) => r.relMs - best).sort((a, b) => a - b);
    const outliers = Math.floor((1 - this.o.percentile) * Math.max(sorted.length, this.o.windowFrames / 2));
    const need = this.clamp(sorted[Math.max(0, sorted.length - 1 - outliers)]! + f);
    if (need > this.target) {
      this.target = need;
      this.lastPeakAtMs = arrivalMs;
    }
    this.floor = need;
    return excess;
  }

  private decay(nowMs: number): void {
    const last = this.lastUpdateMs ?? nowMs;
    this.lastUpdateMs = nowMs;
    if (nowMs - this.lastPeakAtMs < this.o.holdMs) return;
    const step = (this.o.decayMsPerSecond * Math.max(0, nowMs - last)) / 1000;
    this.target = Math.max(this.o.minDelayMs, this.floor, this.target - step);
  }

  private clamp(ms: number): number {
    return Math.min(this.o.maxDelayMs, Math.max(this.o.minDelayMs, ms));
  }

  private bufferedMs(): number {
    if (this.slots.size === 0) return 0;
    const from = this.playing && this.nextSeq !== null ? this.nextSeq : this.lowestBuffered()!;
    return (this.maxSeqBuffered - from + 1) * this.o.frameMs;
  }

  private lowestBuffered(): number | null {
    let low: number | null = null;
    for (const s of this.slots.keys()) if (low === null || s < low) low = s;
    return low;
  }

  private rememberPlayed(seq: number): void {
    this.playedSeqs.add(seq);
    this.playedOrder.push(seq);
    if (this.playedOrder.length > 256) this.playedSeqs.delete(this.playedOrder.shift()!);
  }

  private recordSlot(nowMs: number, lost: boolean): void {
    this.counters.slots++;
    if (lost) this.counters.lost++;
    this.window.slot(nowMs, lost);
  }

  private resync(): void {
    this.slots.clear();
    this.maxSeqBuffered = -Infinity;
    this.nextSeq = null;
    this.playing = false;
    this.lastArrivalMs = null;
    this.recentRel.length = 0;
    this.offsetMs = 0;
    this.playedSeqs.clear();
    this.playedOrder.length = 0;
  }
}
