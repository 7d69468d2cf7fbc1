// PROTOCOL.md §6/§7, receiving side of one direction.
//
// Epochs: the opener follows the sender forward only. A frame of a newer epoch makes it derive
// at most MAX_EPOCH_SKIP ratchet steps ahead (cached, so forged frames cost each step at most
// once per epoch); the epoch change is committed only once a frame of the new epoch
// authenticated, so forged headers can never move the receiver. Older epochs are never
// re-derived (they cannot be: the ratchet is one-way).
//
// Grace: when epoch N is committed, epoch N-1 stays usable for GRACE_MS from that moment,
// measured on the injected clock (default performance.now(), monotonic). Expiry is checked on
// every open(); a timer additionally erases the old keys if no frame comes along.
//
// Replay: one 128-wide window per epoch, checked before decryption and marked only after
// authentication. seq is not required to match the epoch arithmetic of the sender: nonce
// uniqueness is the sender's job, and the receiver needs only per-epoch windows.
//
// Every dropped frame is counted and returns null; nothing here throws on bad input.

import { decodeMediaHeader, MEDIA_HEADER_BYTES, MEDIA_TYPE } from "../../protocol/media-header.ts";
import { bufferSource } from "./bytes.ts";
import { dropEpochKeys, type EpochKeys, frameNonce, MAX_EPOCH, nextEpochKeys } from "./ratchet.ts";
import { ReplayWindow } from "./replay-window.ts";

export const GRACE_MS = 2000;
/** The ordinary next epoch plus one epoch (~22 min of audio) lost entirely. */
export const MAX_EPOCH_SKIP = 2;
const TAG_BYTES = 16;

export interface OpenedFrame {
  callHandle: number;
  epoch: number;
  seq: number;
  payload: Uint8Array;
}

export interface OpenerStats {
  opened: number;
  authFailed: number;
  replayed: number;
  tooOld: number; // outside the replay window, or of an epoch already erased
  malformed: number;
  unknownEpoch: number; // more than MAX_EPOCH_SKIP epochs ahead
}

export interface FrameOpenerOptions {
  /** Milliseconds, monotonic. Injected by tests to time the previous-epoch grace period. */
  clock?: () => number;
}

interface Slot {
  keys: EpochKeys;
  window: ReplayWindow;
}

export class FrameOpener {
  readonly stats: OpenerStats = { opened: 0, authFailed: 0, replayed: 0, tooOld: 0, malformed: 0, unknownEpoch: 0 };
  private current: Slot | null;
  private previous: (Slot & { expiresAt: number }) | null = null;
  private ahead: EpochKeys[] = []; // derived keys for current.epoch + 1, + 2, …
  private readonly clock: () => number;
  private eraseTimer: ReturnType<typeof setTimeout> | null = null;
  private used = false;
  // open() calls run one at a time: window and epoch state change only between frames.
  private tail: Promise<unknown> = Promise.resolve();

  /** Takes ownership of the epoch-0 keys (usage "decrypt"). Built by KeyExchange, not by the app. */
  constructor(epoch0: EpochKeys, opts: FrameOpenerOptions = {}) {
    if (epoch0.usage !== "decrypt" || epoch0.epoch !== 0) throw new TypeError("opener needs epoch-0 decrypt keys");
    this.current = { keys: epoch0, window: new ReplayWindow() };
    this.clock = opts.clock ?? (() => performance.now());
  }

  /** The newest epoch that authenticated a frame. */
  get epoch(): number {
    return this.current?.keys.epoch ?? -1;
  }

  /** null = dropped and counted in stats (or the opener was destroyed). Never throws. */
  open(frame: Uint8Array): Promise<OpenedFrame | null> {
    this.used = true;
    const run = this.tail.then(() => this.openNow(frame)).catch(() => null);
    this.tail = run;
    return run;
  }

  private async openNow(frame: Uint8Array): Promise<OpenedFrame | null> {
    if (!this.current) return null;
    if (!(frame instanceof Uint8Array) || frame.byteLength < MEDIA_HEADER_BYTES + TAG_BYTES) {
      this.stats.malformed++;
      return null;
    }
    const h = decodeMediaHeader(frame);
    if (h.type !== MEDIA_TYPE) {
      this.stats.malformed++;
      return null;
    }
    this.expirePrevious();

    let slot: Slot;
    let skip = 0;
    if (h.epoch === this.current.keys.epoch) slot = this.current;
    else if (this.previous && h.epoch === this.previous.keys.epoch) slot = this.previous;
    else if (h.epoch < this.current.keys.epoch) {
      this.stats.tooOld++;
      return null;
    } else {
      skip = h.epoch - this.current.keys.epoch;
      if (skip > MAX_EPOCH_SKIP) {
        this.stats.unknownEpoch++;
        return null;
      }
      const keys = await this.aheadKeys(skip);
      if (!keys) return null;
      slot = { keys, window: new ReplayWindow() };
    }

    const verdict = slot.window.check(h.seq);
    if (verdict !== "fresh") {
      this.stats[verdict]++;
      return null;
    }

    const header = frame.subarray(0, MEDIA_HEADER_BYTES);
    let plain: ArrayBuffer;
    try {
      plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: bufferSource(frameNonce(slot.keys.salt, header)), additionalData: bufferSource(header), tagLength: 128 },
        slot.keys.aesKey,
        bufferSource(frame.subarray(MEDIA_HEADER_BYTES)),
      );
    } catch {
      this.stats.authFailed++;
      return null;
    }
    if (!this.current) return null; // destroyed while decrypting

    if (skip > 0) this.advance(skip, slot);
    slot.window.mark(h.seq);
    this.stats.opened++;
    return { callHandle: h.callHandle, epoch: h.epoch, seq: h.seq, payload: new Uint8Array(plain) };
  }

  private async aheadKeys(skip: number): Promise<EpochKeys | null> {
    while (this.ahead.length < skip) {
      const base = this.ahead.at(-1) ?? this.current?.keys;
      if (!base || base.epoch >= MAX_EPOCH) return null;
      const next = await nextEpochKeys(base);
      if (!this.current) {
        dropEpochKeys(next);
        return null;
      }
      this.ahead.push(next);
    }
    return this.ahead[skip - 1]!;
  }

  /** Commit the move to current.epoch + skip; `slot` holds its keys and fresh window. */
  private advance(skip: number, slot: Slot): void {
    const old = this.current!;
    const prevSlot: Slot = skip === 1 ? old : { keys: this.ahead[skip - 2]!, window: new ReplayWindow() };
    this.dropPrevious();
    if (skip > 1) dropEpochKeys(old.keys);
    for (let i = 0; i < skip - 2; i++) dropEpochKeys(this.ahead[i]);
    this.ahead = this.ahead.slice(skip);
    this.current = slot;
    this.previous = { ...prevSlot, expiresAt: this.clock() + GRACE_MS };
    this.eraseTimer = setTimeout(() => this.expirePrevious(), GRACE_MS + 50);
    (this.eraseTimer as { unref?: () => void }).unref?.();
  }

  private expirePrevious(): void {
    if (this.previous && this.clock() >= this.previous.expiresAt) this.dropPrevious();
  }

  private dropPrevious(): void {
    if (this.eraseTimer !== null) clearTimeout(this.eraseTimer);
    this.eraseTimer = null;
    if (this.previous) dropEpochKeys(this.previous.keys);
    this.previous = null;
  }

  /**
   * Gives up the epoch-0 keys so an opener elsewhere (the link worker) can take over; this one
   * is destroyed. Refused once open() was ever called: the replay window and the epoch state
   * would not travel with the keys.
   */
  handOff(): EpochKeys {
    const cur = this.current;
    if (!cur || !this.canHandOff) throw new Error("frame opener already in use");
    this.current = null;
    return cur.keys;
  }

  /** Nothing was ever given to open() (not even a frame still being opened): handOff() will succeed. */
  get canHandOff(): boolean {
    return !this.used && this.current?.keys.epoch === 0 && this.ahead.length === 0;
  }

  destroy(): void {
    const cur = this.current;
    const ahead = this.ahead;
    this.current = null;
    this.ahead = [];
    // Let an in-flight decryption finish reading its salt first.
    this.tail.then(() => {
      this.dropPrevious();
      dropEpochKeys(cur?.keys);
      for (const k of ahead) dropEpochKeys(k);
    });
  }
}
