// What the last few seconds of a call looked like, for the quality indicator.
//
// Whole-call figures cannot drive an indicator: a one-second blip early on would read as lossy
// for the rest of the call. Windows counted in playout slots are no better, because slots stop
// being counted in silence (DTX, the peer muted): the window then freezes on the blip. So the
// window here is wall-clock time, in fixed buckets, and silence simply ages the bad part out.
//
// Pure code: the caller passes the clock.

export interface RecentStats {
  /** Length of the window the figures cover. */
  windowMs: number;
  /** Playout slots in the window (played + concealed + skipped over at a talkspurt start). */
  slots: number;
  lost: number;
  lossPercent: number;
  concealed: number;
  late: number;
  /** Arrivals measured for jitter in the window. */
  arrivals: number;
  /** Mean |D| (RFC 3550 §6.4.1 transit difference) over the window: the same scale as RFC 3550 jitter. */
  jitterMs: number;
}

export interface RecentWindowOptions {
  windowMs?: number;
  bucketMs?: number;
  /** Loss is divided by at least this many slots, so a lone concealed frame in an otherwise
   *  silent window does not read as 50 % loss. 50 slots = 1 s of audio. */
  minSlots?: number;
  /** Likewise for jitter: one odd arrival after a silence is not a jittery network. */
  minArrivals?: number;
}

interface Bucket {
  id: number;
  slots: number;
  lost: number;
  concealed: number;
  late: number;
  arrivals: number;
  absDSum: number;
}

const empty = (id: number): Bucket => ({ id, slots: 0, lost: 0, concealed: 0, late: 0, arrivals: 0, absDSum: 0 });

export class RecentWindow {
  readonly windowMs: number;
  private readonly bucketMs: number;
  private readonly minSlots: number;
  private readonly minArrivals: number;
  private readonly ring: Bucket[];
  private latestMs = -Infinity;

  constructor(o: RecentWindowOptions = {}) {
    this.bucketMs = o.bucketMs ?? 250;
    const n = Math.max(1, Math.round((o.windowMs ?? 5000) / this.bucketMs));
    this.windowMs = n * this.bucketMs;
    this.minSlots = o.minSlots ?? 50;
    this.minArrivals = o.minArrivals ?? 25;
    this.ring = Array.from({ length: n }, () => empty(-Infinity));
  }

  slot(atMs: number, lost: boolean): void {
    const b = this.bucket(atMs);
    if (!b) return;
    b.slots++;
    if (lost) b.lost++;
  }

  concealed(atMs: number): void {
    const b = this.bucket(atMs);
    if (b) b.concealed++;
  }

  late(atMs: number): void {
    const b = this.bucket(atMs);
    if (b) b.late++;
  }

  arrival(atMs: number, absDMs: number): void {
    const b = this.bucket(atMs);
    if (!b) return;
    b.arrivals++;
    b.absDSum += absDMs;
  }

  stats(nowMs = this.latestMs): RecentStats {
    const nowId = Math.floor(nowMs / this.bucketMs);
    const s = { slots: 0, lost: 0, concealed: 0, late: 0, arrivals: 0, absDSum: 0 };
    for (const b of this.ring) {
      if (b.id > nowId || b.id <= nowId - this.ring.length) continue;
      s.slots += b.slots;
      s.lost += b.lost;
      s.concealed += b.concealed;
      s.late += b.late;
      s.arrivals += b.arrivals;
      s.absDSum += b.absDSum;
    }
    return {
      windowMs: this.windowMs,
      slots: s.slots,
      lost: s.lost,
      lossPercent: (100 * s.lost) / Math.max(s.slots, this.minSlots),
      concealed: s.concealed,
      late: s.late,
      arrivals: s.arrivals,
      jitterMs: s.absDSum / Math.max(s.arrivals, this.minArrivals),
    };
  }

  private bucket(atMs: number): Bucket | null {
    if (!Number.isFinite(atMs)) return null;
    if (atMs > this.latestMs) this.latestMs = atMs;
    const id = Math.floor(atMs / this.bucketMs);
    // Older than the window (e.g. a very late arrival timestamp): nothing to count it in.
    if (id <= Math.floor(this.latestMs / this.bucketMs) - this.ring.length) return null;
    const i = ((id % this.ring.length) + this.ring.length) % this.ring.length;
    if (this.ring[i]!.id !== id) this.ring[i] = empty(id);
    return this.ring[i]!;
  }
}
