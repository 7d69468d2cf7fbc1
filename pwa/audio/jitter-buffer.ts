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
// Delay control. Target delay = a high percentile of the last 1.5 s of "excess delay" (how much
// later than the best recent frame a frame arrived; heads of arrival bunches only, see
// measure()) plus one frame of margin, clamped to
// [min, max]. A call starts low (initialDelayMs, 1.5 frames) because nothing has been measured
// yet and the first words matter most — and arrivals in the first second (start-up bunches) count
// only up to 60 ms; the target rises at once when the percentile rises and,
// after a 0.5 s hold, falls smoothly (exponentially, τ = 0.6 s) to what the window needs.
// An excess beyond stallMs is a stall (a TCP retransmission timeout, a radio outage), not jitter:
// covering one would mean playing the whole call that late, so it does not raise the target —
// unless stalls recur (3 within 10 s, a lossy link): then dropping every backlog would lose most
// of the speech, and the target covers the longest recent stall, up to 1 s (stall-cover.ts).
// Playout starts a talkspurt on schedule for that target. While playing, the audio buffered
// ahead of the playout point is the real playout delay; when it exceeds the target — a stall's
// backlog arriving at once, a start-up burst, clock drift — the surplus is dropped: a large one
// (≥ flushMs, 200 ms) at once down to 60 ms, in a single crossfaded jump, and the rest by skipping
// every other frame (2× time compression) down to 40 ms; at a pause (a quiet frame, which the
// caller marks) down to max(¾ frame, half the target), inaudibly. Late audio is worse than a gap.
//
// Statistics come twice: whole-call totals (stats()) for diagnostics, and the last few seconds
// by wall clock (recent()) for the quality indicator, which must recover after a blip.
import { RecentWindow, type RecentStats } from "./recent-stats.ts";
import { StallCover, type StallCoverOptions } from "./stall-cover.ts";

export type { RecentStats } from "./recent-stats.ts";

export type PopResult<T = Uint8Array> =
  | { kind: "frame"; seq: number; payload: T; /** frames skipped just before this one to cut delay */ skipped?: number }
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
  /** Time constant of the shrinking once calm. */
  decayTauMs?: number;
  /** An excess delay beyond this is a stall: counted, never covered by the target. */
  stallMs?: number;
  /** A surplus over the target at least this large is dropped at once instead of compressed. */
  flushMs?: number;
  /** Frames further than this from the expected seq mean the sender restarted: resynchronise. */
  resyncFrames?: number;
  /** recent() covers this much wall-clock time. */
  recentWindowMs?: number;
  /** Arrivals in this long after the first one (call start-up) feed the target only up to warmupCapMs. */
  warmupMs?: number;
  warmupCapMs?: number;
  /** Heads arriving after a warm-up arrival that make it stop counting (see measure()). */
  warmupRetireFrames?: number;
  /** When stalls recur, and how much of them the target then covers (stall-cover.ts). */
  stallCover?: StallCoverOptions;
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
  /** Measured: how long after its best-case arrival the last frames were played (smoothed). */
  playoutDelayMs: number;
  bufferedMs: number;
  /** Holds longer than stallMs with their backlog arriving behind them (stragglers and mutes
   *  are not stalls). */
  stalls: number;
  /** Delay the target includes because stalls recur (0 while they do not; stall-cover.ts). */
  stallCoverMs: number;
}

interface Slot<T> {
  /** Undefined while the frame is announced but its payload is still on the way (see announce()). */
  payload: T | undefined;
  /** A pause (no speech): dropping it, or waiting before it, is inaudible. */
  quiet: boolean;
  arrivalMs: number;
  excessMs: number;
}

/** Ticks a lateness over two frames must last before compression starts (200 ms)… */
const SKIP_AFTER_TICKS = 10;
/** …and then one skip per this many ticks while it lasts (2× speed). */
const SKIP_EVERY_TICKS = 2;
/** Ticks stretched by concealment when the buffer runs dry mid-talkspurt, before it is silence. */
const EXPAND_TICKS = 2;
/** A quiet frame is dropped once the playout is this many frames later than the target's. */
const CATCH_UP_AT_PAUSE = 0.75;
/** How fast a target raised by the call's start-up falls once the start-up heads stop counting. */
const STARTUP_DECAY_TAU_MS = 150;
/** How long after a stall's head its backlog may still arrive (see measure()). */
const BACKLOG_WINDOW_MS = 200;

/** A frame that may head a stall, and the backlog behind it so far (see measure()). */
interface StallHead {
  seq: number;
  atMs: number;
  /** The stall's length if it is one. */
  lengthMs: number;
  /** It came in the call's first second: counted, not covered. */
  warmup: boolean;
  /** Sum of the arrival deviations since it; the backlog is the deepest this has gone. */
  cumMs: number;
  backlogMs: number;
}

/** One more in-order arrival `d` behind a possible stall head; returns how much deeper its backlog got. */
function deepen(h: StallHead, d: number): number {
  h.cumMs += d;
  const deeper = Math.max(0, -h.cumMs - h.backlogMs);
  h.backlogMs += deeper;
  return deeper;
}
/** Smoothing of the measured playout delay, per played frame. */
const PLAYOUT_GAIN = 1 / 8;

const DEFAULTS: Required<JitterBufferOptions> = {
  frameMs: 20,
  initialDelayMs: 20,
  minDelayMs: 20,
  maxDelayMs: 300,
  talkspurtGapMs: 300,
  percentile: 0.95,
  windowFrames: 75,
  holdMs: 500,
  decayTauMs: 600,
  stallMs: 300,
  flushMs: 200,
  resyncFrames: 500,
  recentWindowMs: 5000,
  warmupMs: 1000,
  warmupCapMs: 60,
  warmupRetireFrames: 10,
  stallCover: {},
};

export class JitterBuffer<T = Uint8Array> {
  private readonly o: Required<JitterBufferOptions>;
  private readonly slots = new Map<number, Slot<T>>();
  private maxSeqBuffered = -Infinity;

  private nextSeq: number | null = null;
  private playing = false;
  private overTicks = 0;
  /** Consecutive ticks concealed on an empty buffer (stretching) in this talkspurt. */
  private expanded = 0;
  /** The frame the timeline was last re-anchored on, while the frames after it may still
   *  reveal it as a stall's head (for BACKLOG_WINDOW_MS): its length is the arrival gap before
   *  it; with a backlog longer than stallMs behind it the gap was a stall, that long (a mute has
   *  none). */
  private anchor: StallHead | null = null;
  /** A frame that arrived more than stallMs late with frames already buffered: a stall's head
   *  if a backlog longer than stallMs follows it within BACKLOG_WINDOW_MS, the end of a mute if
   *  not. */
  private pendingStall: StallHead | null = null;
  private readonly stallCover: StallCover;
  /** What the target includes for recurring stalls (0 while none recur)… */
  private coverMs = 0;
  /** …and what the jitter alone needs (the percentile + a frame). */
  private jitterNeed = 0;

  // Relative-delay tracking.
  private lastArrivalMs: number | null = null;
  private lastArrivalSeq = 0;
  private offsetMs = 0;
  private jitter = 0;
  private readonly recentRel: { seq: number; relMs: number; follower: boolean; warmup: boolean }[] = [];
  private firstArrivalMs: number | null = null;
  private target: number;
  private lastPeakAtMs = 0;
  /** The target's last rise came from a warm-up arrival (see decay()). */
  private startupPeak = false;
  /** The floor still counts start-up heads. */
  private floorFromStartup = false;
  private lastUpdateMs: number | null = null;
  /** What the current window still needs; shrinking never goes below it. */
  private floor = 0;

  // Which recent seqs were really played, to tell duplicates of played frames from late ones.
  private readonly playedSeqs = new Set<number>();
  private readonly playedOrder: number[] = [];
  /** Announced frames whose slot passed before their payload came (its push() is then ignored). */
  private readonly passedPending = new Set<number>();
  private missed: number | null = null;
  private readonly window: RecentWindow;

  private playoutDelay: number | null = null;
  private counters = { received: 0, played: 0, concealed: 0, late: 0, duplicate: 0, skipped: 0, underruns: 0, slots: 0, lost: 0, stalls: 0 };

  constructor(options: JitterBufferOptions = {}) {
    this.o = { ...DEFAULTS, ...options };
    this.target = this.o.initialDelayMs;
    this.stallCover = new StallCover(this.o.stallCover);
    this.window = new RecentWindow({ windowMs: this.o.recentWindowMs });
  }

  /**
   * A frame has arrived, but its payload follows later through push(): the receiving side holds
   * it back to decode in sequence order, behind a gap. Announced, it is measured at its real
   * arrival (not when the gap is given up), and the buffer knows that the frames before it are
   * missing — to be concealed on schedule, which is what gives the gap up (missedThrough()) —
   * rather than merely late, which would stretch the playout and then wait for them.
   */
  announce(seq: number, arrivalMs: number): void {
    this.arrive(seq, undefined, arrivalMs);
  }

  /** `quiet`: the frame is a pause in speech (the caller judges; the playback worklet by level). */
  push(seq: number, payload: T, arrivalMs: number, quiet = false): void {
    const pending = this.slots.get(seq);
    if (pending && pending.payload === undefined) {
      pending.payload = payload;
      pending.quiet = quiet;
      return;
    }
    // Announced, but its slot passed before the payload came: counted (late) then.
    if (this.passedPending.delete(seq)) return;
    this.arrive(seq, payload, arrivalMs, quiet);
  }

  /** The highest seq whose slot passed without its payload (concealed, skipped, given up), or null. */
  missedThrough(): number | null {
    return this.missed;
  }

  private arrive(seq: number, payload: T | undefined, arrivalMs: number, quiet = false): void {
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
      if (payload === undefined) this.rememberPassedPending(seq);
      return;
    }
    this.slots.set(seq, { payload, arrivalMs, excessMs, quiet });
    if (seq > this.maxSeqBuffered) this.maxSeqBuffered = seq;

    // Bound memory: a buffer this far beyond the cap can only be a stall followed by a flood.
    const limit = Math.ceil((Math.max(this.o.maxDelayMs, this.coverMs) * 4) / this.o.frameMs);
    while (this.slots.size > limit) {
      const oldest = this.lowestBuffered()!;
      const dropped = this.slots.get(oldest)!;
      this.slots.delete(oldest);
      this.counters.skipped++;
      if (dropped.payload === undefined) this.rememberPassedPending(oldest);
      if (this.nextSeq !== null && oldest >= this.nextSeq) {
        this.nextSeq = oldest + 1;
        this.noteMissed(oldest);
      }
    }
  }

  pop(nowMs: number): PopResult<T> {
    this.decay(nowMs);

    if (!this.playing || this.nextSeq === null) {
      const first = this.lowestBuffered();
      if (first === null) return { kind: "silence" };
      const slot = this.slots.get(first)!;
      // Start on schedule: a frame that itself arrived late needs correspondingly less waiting.
      const wait = Math.max(0, this.target - slot.excessMs);
      if (nowMs + this.o.frameMs / 2 < slot.arrivalMs + wait) return { kind: "silence" };
      // Anything before the first buffered frame was due during the silence we already played.
      if (this.nextSeq !== null && first > this.nextSeq) {
        for (let s = this.nextSeq; s < first; s++) this.recordSlot(nowMs, true);
        this.noteMissed(first - 1);
      }
      this.nextSeq = first;
      this.playing = true;
    }

    // Catch up. The newest frame tells where the playout point should be: its best-case arrival
    // (arrival − excess), minus the frames between it and the head, plus the target. Being later
    // than that is delay we are adding: a stall's backlog, a start-up burst, stretching, clock
    // drift. A large lateness goes at once, a small one at double speed once it has lasted
    // 200 ms; up to two frames (stretches, the tick granularity) are left alone, since every skip
    // is an audible discontinuity (crossfaded) and on a busy phone they add up.
    let skipped = 0;
    const f = this.o.frameMs;
    const lateness = () => {
      const newest = this.slots.get(this.maxSeqBuffered);
      if (!newest) return 0;
      return nowMs - (newest.arrivalMs - Math.min(newest.excessMs, this.stallCapMs()) - (this.maxSeqBuffered - this.nextSeq!) * f + this.target);
    };
    if (this.slots.has(this.nextSeq) && lateness() >= this.o.flushMs) {
      // Down to 3 frames late, not to 0: a receiving main thread that stalls now and then on a busy
      // phone delivers exactly such backlogs, and the last few frames of one are the cheapest
      // delay to keep — compression (below) takes them out without a second jump.
      while (lateness() > 3 * f && this.nextSeq < this.maxSeqBuffered) skipped += this.skipHead();
      this.overTicks = 0;
    } else {
      this.overTicks = lateness() > 2 * f ? this.overTicks + 1 : 0;
      if (this.overTicks >= SKIP_AFTER_TICKS && this.slots.has(this.nextSeq) && this.slots.has(this.nextSeq + 1)) {
        skipped += this.skipHead();
        this.overTicks = SKIP_AFTER_TICKS - SKIP_EVERY_TICKS;
      }
    }
    // Catch up at a pause. A quiet frame at the playout point (between words) can be dropped with
    // nothing audible lost — the classic adjustment at talkspurt boundaries, for a sender that
    // never stops sending (DTX is off). So at every pause the delay comes down to the target:
    // after a stretch, a start-up burst, a backlog's last frames — instead of keeping up to two
    // frames for good, which is what a call used to settle at (20–40 ms above the target).
    // (Growing the delay at a pause, by inserting silence when the target has risen, was tried:
    // in simulated traces the stretch at the first underrun always came first.)
    // On a jittery link (a high target) the lateness kept is margin for the jitter's tail beyond
    // the percentile, and every move of the playout point shifts the timeline: with a move at
    // every pause past ¾ frame, the pipeline test (0–60 ms jitter, target ~80 ms) measured a
    // speech correlation < 0.9 in 5 of 16 runs, none of 16 without, same conditions. So up to
    // half the target is left alone.
    if (skipped === 0 && this.slots.get(this.nextSeq)?.quiet && lateness() >= Math.max(CATCH_UP_AT_PAUSE * f, this.target / 2) && this.slots.get(this.nextSeq + 1)?.payload !== undefined) {
      skipped += this.skipHead();
    }

    const seq = this.nextSeq;
    const slot = this.slots.get(seq);
    if (slot && slot.payload !== undefined) {
      this.countExpansion(nowMs);
      this.slots.delete(seq);
      this.nextSeq = seq + 1;
      this.counters.played++;
      const delay = nowMs - slot.arrivalMs + Math.min(slot.excessMs, this.stallCapMs());
      this.playoutDelay = this.playoutDelay === null ? delay : this.playoutDelay + (delay - this.playoutDelay) * PLAYOUT_GAIN;
      this.rememberPlayed(seq);
      this.recordSlot(nowMs, false);
      return skipped ? { kind: "frame", seq, payload: slot.payload, skipped } : { kind: "frame", seq, payload: slot.payload };
    }
    if (slot) {
      // Arrived, payload still on its way (being decoded, or released just now from behind a gap
      // we gave up): it is milliseconds off, so stretch as for a spike; past that it is late.
      if (this.expanded < EXPAND_TICKS) {
        this.expanded++;
        return { kind: "conceal", seq };
      }
      this.slots.delete(seq);
      this.rememberPassedPending(seq);
      this.counters.late++;
      this.window.late(nowMs);
    }
    if (slot || this.slots.size > 0) {
      // Missing, with later frames here or announced: lost (or too late). Conceal it on schedule.
      this.countExpansion(nowMs);
      this.nextSeq = seq + 1;
      this.counters.concealed++;
      this.window.concealed(nowMs);
      this.recordSlot(nowMs, true);
      this.noteMissed(seq);
      return { kind: "conceal", seq };
    }
    // Empty mid-talkspurt: a delay spike, or the end of a talkspurt (DTX, mute). Keep nextSeq — if
    // the frame turns up it is still playable. For the first EXPAND_TICKS, stretch (conceal
    // without consuming a slot): with a buffer only a frame or two deep this is what a spike
    // looks like, and the frame that shows up then plays 20 ms later, a delay the catch-up above
    // trims again. After that, silence; the next talkspurt starts on schedule.
    // Stretch ticks count as concealment only once a frame proves it was a spike; at the end of a
    // talkspurt they are just its fade-out.
    if (this.expanded < EXPAND_TICKS) {
      this.expanded++;
      return { kind: "conceal", seq };
    }
    this.counters.underruns++;
    this.playing = false;
    this.expanded = 0;
    return { kind: "silence" };
  }

  stats(): JitterBufferStats {
    return {
      ...this.counters,
      lossPercent: this.counters.slots ? (100 * this.counters.lost) / this.counters.slots : 0,
      jitterMs: this.jitter,
      targetDelayMs: this.target,
      playoutDelayMs: this.playoutDelay ?? 0,
      bufferedMs: this.bufferedMs(),
      stallCoverMs: this.coverMs,
    };
  }

  /** The last recentWindowMs before nowMs (default: the latest time this buffer was given). */
  recent(nowMs?: number): RecentStats {
    return this.window.stats(nowMs);
  }

  /** Measures the frame's delay relative to its neighbours; returns its excess over the best recent frame. */
  private measure(seq: number, arrivalMs: number, inOrder: boolean): number {
    const f = this.o.frameMs;
    // Over TCP a late frame holds up the ones behind it, which then arrive in a bunch right after
    // it: only the head of a bunch says anything about the network, so only heads feed the target.
    // (Otherwise a single hiccup — a busy main thread at call set-up — counts as many late frames
    // and sets the delay for seconds; a recurring one still raises it, through its heads.)
    // A frame arriving less than a frame after its predecessor is catching up: its excess is
    // below its predecessor's, so leaving it out never lowers the top of the distribution the
    // target is taken from. Counting only a bunch's first few milliseconds (until 2026-12) let
    // a sender's start-up ramp — a slow first encode, then its backlog at 2× speed, frames 5–30 ms
    // apart — teach the target 60–80 ms for the first 2.5 s of every call (measured).
    // The first second of a call is its noisiest: the sender's encoder starting, both main threads
    // busy with the call screen and key confirmation. Frames then arrive in start-up bunches that
    // say little about the network; learning the target from them put the first seconds of every
    // call at 200+ ms (measured). Their excess counts only up to warmupCapMs (60 ms): enough to
    // cover a jittery network from the start, not a start-up stall. (20 ms was tried in 2026-12:
    // the first 5 s of a calm call came 20–60 ms sooner — each main-thread stall of a sender's
    // first second is a head that counts — but the pipeline test's 0–60 ms jitter from the first
    // frame then stretched its way up around the 1 s mark, and its speech correlation fell below
    // 0.9 in 1 of 10 runs, 0 of 10 with 60.)
    // A start-up head stops counting once warmupRetireFrames (10) heads have arrived after it:
    // those speak for the network from then on, and a network that is jittery from the start
    // keeps showing it in them (each counted up to the cap while the warm-up lasts). Kept for
    // the whole 1.5 s window, a start-up bunch held every calm call at the cap (target 80 ms)
    // until ~2.5 s and its playout at 110–140 ms for the first 2 s (measured with bench/latency).
    // A stall holds the stream: its head is the newest frame yet, and the frames held behind it
    // arrive shortly after it (the backlog, below). A frame arriving after later ones is a
    // straggler (reordering); one with nothing behind it ends a mute. Neither is a stall.
    const streamHead = this.lastArrivalMs === null || seq > this.lastArrivalSeq;
    this.firstArrivalMs ??= arrivalMs;
    const warmup = arrivalMs - this.firstArrivalMs < this.o.warmupMs;
    const follower = inOrder && this.lastArrivalMs !== null && seq === this.lastArrivalSeq + 1 && arrivalMs - this.lastArrivalMs < f;
    if (this.lastArrivalMs !== null) {
      const d = arrivalMs - this.lastArrivalMs - (seq - this.lastArrivalSeq) * f;
      // A backlog is the frames a stall held, arriving faster than real time shortly after its
      // head: how far the arrivals since the head fall behind ("ahead of") the head's timeline
      // at their deepest — the sum of their deviations, so that jitter's ups and downs cancel
      // (counting only the early frames let 0–60 ms of jitter after an unmute build a "backlog"
      // of ~90 ms per 200 ms, and a backlog delivered in rounds count twice). Not necessarily
      // right after the head: in Chromium the head of a TCP backlog reached the playback
      // worklet alone, the next frame 11 ms later, one more 19 ms after that, then the rest at
      // once (captured through the lossy proxy, 2026-12-02).
      const p = this.pendingStall;
      if (p && arrivalMs - p.atMs > BACKLOG_WINDOW_MS) this.pendingStall = null;
      else if (p && inOrder) {
        deepen(p, d);
        if (p.backlogMs > this.o.stallMs) {
          this.counters.stalls++;
          if (!p.warmup) this.stallCover.note(p.atMs, p.lengthMs);
          this.pendingStall = null;
        }
      }
      if (this.anchor && arrivalMs - this.anchor.atMs > BACKLOG_WINDOW_MS) this.anchor = null;
      const deeper = this.anchor && inOrder ? deepen(this.anchor, d) : 0;
      if (inOrder && d > this.o.talkspurtGapMs && this.slots.size === 0) {
        // Silence on the sender's side (DTX or mute), not network delay: shift the timeline.
        this.offsetMs += d;
        this.anchor = { seq, atMs: arrivalMs, lengthMs: d, warmup, cumMs: 0, backlogMs: 0 };
      } else if (this.anchor && deeper > 0) {
        // Frames behind the one we anchored on, arriving early for that timeline: it may be the
        // head of a stall's backlog, not the start of speech. Follow the backlog's timeline, or
        // every frame of it would look late against its last one and raise the target.
        this.backlogArrived(this.anchor, deeper, arrivalMs);
        this.offsetMs -= deeper;
      } else {
        this.jitter += (Math.abs(d) - this.jitter) / 16;
        this.window.arrival(arrivalMs, Math.abs(d));
      }
    }
    this.lastArrivalMs = arrivalMs;
    this.lastArrivalSeq = seq;

    const relMs = arrivalMs - seq * f - this.offsetMs;
    this.recentRel.push({ seq, relMs, follower, warmup });
    if (this.recentRel.length > this.o.windowFrames) this.recentRel.shift();
    let best = Infinity;
    for (const r of this.recentRel) if (r.relMs < best) best = r.relMs;
    const excess = relMs - best;

    // Late with frames still buffered: a stall if a backlog follows within BACKLOG_WINDOW_MS
    // (counted then), the end of a short mute if not, a straggler if later frames came first.
    // One in a call's first second is counted but not covered: start-up stalls (a first
    // encode, busy pages) say nothing of the link.
    if (streamHead && excess > this.o.stallMs && !this.recentRel.some((r) => r.seq === seq - 1 && r.relMs - best > this.o.stallMs)) {
      this.pendingStall = { seq, atMs: arrivalMs, lengthMs: excess, warmup, cumMs: 0, backlogMs: 0 };
    }

    // Allow as many outliers as a full window would: with only a few frames seen (call start,
    // typically a burst) a plain percentile is the maximum and one slow start would set the delay.
    // Stalls are left out altogether (see the header).
    const sorted: number[] = [];
    let headsAfter = 0;
    let warmupCounted = false;
    for (let i = this.recentRel.length - 1; i >= 0; i--) {
      const r = this.recentRel[i]!;
      if (r.follower) continue;
      const retired = r.warmup && headsAfter >= this.o.warmupRetireFrames;
      headsAfter++;
      if (retired || r.relMs - best > this.o.stallMs) continue;
      if (r.warmup) warmupCounted = true;
      sorted.push(r.warmup ? Math.min(r.relMs - best, this.o.warmupCapMs) : r.relMs - best);
    }
    sorted.sort((a, b) => a - b);
    const outliers = Math.floor((1 - this.o.percentile) * Math.max(sorted.length, this.o.windowFrames));
    // Recurring stalls are covered on top of (not instead of) the jitter: see stall-cover.ts.
    this.jitterNeed = this.clamp((sorted[sorted.length - 1 - outliers] ?? 0) + f);
    this.refreshCover(arrivalMs);
    const need = Math.max(this.jitterNeed, this.coverMs);
    if (need > this.target) {
      this.target = need;
      this.lastPeakAtMs = arrivalMs;
      this.startupPeak = warmup;
    }
    this.floor = need;
    this.floorFromStartup = warmupCounted;
    return excess;
  }

  private decay(nowMs: number): void {
    const last = this.lastUpdateMs ?? nowMs;
    this.lastUpdateMs = nowMs;
    // The cover goes 10 s after the last stall even when nothing arrives (a mute).
    if (this.coverMs > 0) {
      this.refreshCover(nowMs);
      this.floor = Math.max(this.jitterNeed, this.coverMs);
    }
    // A peak set by the call's start-up bunches falls as soon as they stop counting (10 heads
    // later), and fast: the hold and the slow fall are for a network whose jitter comes and goes,
    // and the start-up's excess came from the call setting up, not from the network — which the
    // floor (the heads since) still covers. Kept for the hold and τ, such a peak held the target
    // at 60–80 ms for 1–2 s after the start-up had passed (bench:first-seconds, 2026-12-02).
    const startup = this.startupPeak;
    if (!startup && nowMs - this.lastPeakAtMs < this.o.holdMs) return;
    const floor = Math.max(this.o.minDelayMs, this.floor);
    if (this.target <= floor) {
      // Down to what the network needs, the start-up heads no longer counted: from here on the
      // usual hold and fall.
      if (!this.floorFromStartup) this.startupPeak = false;
      return;
    }
    const k = 1 - Math.exp(-Math.max(0, nowMs - last) / (startup ? STARTUP_DECAY_TAU_MS : this.o.decayTauMs));
    // Exponential, plus a small linear part so the last millisecond does not take forever.
    this.target = Math.max(floor, this.target - (this.target - floor) * k - (Math.max(0, nowMs - last) * 2) / 1000);
  }

  /**
   * More of the backlog behind the frame the timeline was re-anchored on. Once it is longer than
   * stallMs, that frame heads a stall as long as the gap before it, and is marked that late: it
   * is due at once when playout restarts, not a whole target after its arrival (on the backlog's
   * timeline it looked on time, and waiting for it would add the target to the stall). Until
   * then it is only as late as the backlog says: the first frame after a mute may be a few ms
   * late against the next one, and its "backlog" is those few ms, not the mute.
   * (The gap, not the backlog, is the stall's length: where two holds follow each other — a
   * lossy uplink and downlink — the backlog arrives in parts, each shorter than the stall the
   * buffer must ride out; measured by the backlog, a simulation of the benchmark's 1 % loss
   * link played 87 % of the frames instead of 89 %, and its 2 s stretches kept intact fell from
   * 96 to 85 %.)
   */
  private backlogArrived(a: StallHead, deeper: number, atMs: number): void {
    if (a.backlogMs - deeper <= this.o.stallMs && a.backlogMs > this.o.stallMs) {
      this.counters.stalls++;
      if (!a.warmup) this.stallCover.note(atMs, a.lengthMs);
    }
    const head = this.slots.get(a.seq);
    const late = a.backlogMs > this.o.stallMs ? a.lengthMs : Math.min(a.backlogMs, a.lengthMs);
    if (head) head.excessMs = Math.max(head.excessMs, late);
  }

  private refreshCover(nowMs: number): void {
    const cover = this.stallCover.coverMs(nowMs);
    this.coverMs = cover > 0 ? cover + this.o.frameMs : 0;
  }

  /** Excess beyond this is a stall the playout is not expected to have covered. */
  private stallCapMs(): number {
    return Math.max(this.o.stallMs, this.coverMs);
  }

  private countExpansion(nowMs: number): void {
    for (; this.expanded > 0; this.expanded--) {
      this.counters.concealed++;
      this.counters.underruns++;
      this.window.concealed(nowMs);
    }
  }

  /** Drops the frame at the playout point (to cut delay); returns 1. */
  private skipHead(): number {
    const seq = this.nextSeq!;
    const slot = this.slots.get(seq);
    if (slot) {
      this.slots.delete(seq);
      this.counters.skipped++;
      if (slot.payload === undefined) {
        this.rememberPassedPending(seq);
        this.noteMissed(seq);
      }
    } else {
      this.recordSlot(this.lastUpdateMs ?? 0, true);
      this.noteMissed(seq);
    }
    this.nextSeq = seq + 1;
    return 1;
  }

  private noteMissed(seq: number): void {
    if (this.missed === null || seq > this.missed) this.missed = seq;
  }

  private rememberPassedPending(seq: number): void {
    this.passedPending.add(seq);
    // Bounded: a payload that has not come within this many frames never will.
    if (this.passedPending.size > 64) this.passedPending.delete(this.passedPending.values().next().value!);
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
    this.anchor = null;
    this.pendingStall = null;
    this.stallCover.reset();
    this.coverMs = 0;
    this.jitterNeed = 0;
    this.expanded = 0;
    this.firstArrivalMs = null;
    this.playedSeqs.clear();
    this.playedOrder.length = 0;
    this.passedPending.clear();
    this.missed = null;
  }
}
