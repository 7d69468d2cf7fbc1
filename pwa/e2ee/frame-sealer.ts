// PROTOCOL.md §6/§7, sending side of one direction.
// seq counts on across the whole direction (it never restarts at an epoch change) and
// epoch = floor(seq / ratchetInterval) = number of ratchet steps done. Each seq is taken
// synchronously when seal() is called, so concurrent seal() calls can never share a seq,
// and (key, nonce) never repeats: within an epoch the seq differs, across epochs the key does.

import { encodeMediaHeader, MAX_SEQ } from "../../protocol/media-header.ts";
import { bufferSource, concatBytes } from "./bytes.ts";
import { dropEpochKeys, type EpochKeys, frameNonce, MAX_EPOCH, nextEpochKeys } from "./ratchet.ts";

export const RATCHET_INTERVAL = 2 ** 16;

export interface FrameSealerOptions {
  /** Ratchet every n frames instead of 2^16: tests (so they need not seal 65 536 frames), and a
   *  sealer taking over from handOff(), which says what its predecessor used. */
  ratchetInterval?: number;
  /** First seq to use: tests (e.g. just below an epoch boundary), and a sealer taking over from handOff(). */
  startSeq?: number;
}

export class FrameSealer {
  private nextSeq: number;
  private readonly interval: number;
  private current: EpochKeys | null;
  private sealed = false;
  // Encryptions run one after another so a ratchet step (which drops the old epoch) can never
  // overtake a frame of the old epoch that is still being sealed.
  private tail: Promise<void> = Promise.resolve();

  /** Takes ownership of the epoch-0 keys (usage "encrypt"). Built by KeyExchange, not by the app. */
  constructor(epoch0: EpochKeys, opts: FrameSealerOptions = {}) {
    if (epoch0.usage !== "encrypt" || epoch0.epoch !== 0) throw new TypeError("sealer needs epoch-0 encrypt keys");
    this.interval = opts.ratchetInterval ?? RATCHET_INTERVAL;
    this.nextSeq = opts.startSeq ?? 0;
    if (!Number.isInteger(this.interval) || this.interval < 1) throw new RangeError("bad ratchet interval");
    if (!Number.isInteger(this.nextSeq) || this.nextSeq < 0) throw new RangeError("bad start seq");
    this.current = epoch0;
  }

  /** The seq the next seal() will use. */
  get seq(): number {
    return this.nextSeq;
  }

  /**
   * Leaves out `n` seqs: the sender dropped that many frames before sealing (stale audio after a
   * main-thread stall). The receiver uses seq as the sender's clock, so a frame that was never
   * sent must still use up its number, or every later frame would look `n` × 20 ms late.
   * Safe for nonces: seqs only ever grow; a skipped epoch is ratcheted through on the next seal().
   */
  skip(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError("bad skip count");
    this.nextSeq += n;
  }

  /**
   * Returns header || ciphertext. Throws (without consuming a seq) once the epoch counter
   * would pass 255: a fresh key exchange is needed then, after ~93 h of audio at 2^16 frames
   * per epoch.
   */
  seal(callHandle: number, payload: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    try {
      if (!this.current) throw new Error("frame sealer destroyed");
      const seq = this.nextSeq;
      const epoch = Math.floor(seq / this.interval);
      if (epoch > MAX_EPOCH || seq > MAX_SEQ) throw new RangeError("media keys exhausted; a new key exchange is needed");
      // Throws on a bad callHandle before a seq is consumed.
      const header = encodeMediaHeader({ callHandle, epoch, seq });
      this.nextSeq = seq + 1;
      this.sealed = true;
      const run = this.tail.then(() => this.sealNow(header, epoch, payload));
      this.tail = run.then(
        () => {},
        () => {},
      );
      return run;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private async sealNow(header: Uint8Array, epoch: number, payload: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    while (this.current && this.current.epoch < epoch) {
      const next = await nextEpochKeys(this.current);
      if (!this.current) {
        dropEpochKeys(next);
        break;
      }
      dropEpochKeys(this.current);
      this.current = next;
    }
    const keys = this.current;
    if (!keys) throw new Error("frame sealer destroyed");
    const ct = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: bufferSource(frameNonce(keys.salt, header)), additionalData: bufferSource(header), tagLength: 128 },
      keys.aesKey,
      bufferSource(payload),
    );
    return concatBytes(header, new Uint8Array(ct));
  }

  /**
   * Gives up the epoch-0 keys, with the seq and interval to go on from, so a sealer elsewhere (the
   * link worker) can take over; this one is destroyed. Refused once a frame was sealed here: its
   * encryption could still be running, and a seq must never be used twice.
   */
  handOff(): { keys: EpochKeys; seq: number; ratchetInterval: number } {
    const keys = this.current;
    if (!keys || !this.canHandOff) throw new Error("frame sealer already in use");
    this.current = null;
    return { keys, seq: this.nextSeq, ratchetInterval: this.interval };
  }

  /** Nothing was sealed here and the keys are still held: handOff() will succeed. */
  get canHandOff(): boolean {
    return !this.sealed && this.current?.epoch === 0;
  }

  destroy(): void {
    const keys = this.current;
    this.current = null;
    // Wait for an in-flight encryption before clearing the salt it may still be reading.
    this.tail.then(() => dropEpochKeys(keys));
  }
}
