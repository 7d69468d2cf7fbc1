// The WebAssembly Opus halves one call uses, kept going when the page's worker dies mid-call
// (an out-of-memory kill, a libopus trap, a browser that reclaims an idle-looking worker): the
// call moves to a new worker instead of going silent in that direction for the rest of the call,
// as the WebCodecs encoder reopens itself after an error (opus-codec.ts).
//
// Decisions:
// - While the new worker starts (it compiles and warms up libopus: ~0.1–1 s), captured frames are
//   refused (encode() → false: call-audio.ts skips their sequence numbers, so the receiver's
//   timeline stays true) and received ones decode to silence (the playback worklet's concealer
//   fades into it). Late audio is worse than a gap. The frames the dead worker was still encoding
//   never give a payload: the encoder's owner is told (onLost), so it skips their sequence
//   numbers too instead of handing them to the next payloads.
// - The new worker's encoder and decoder start fresh: the far end's decoder and ours recover
//   within a packet or two, as after any loss.
// - A new worker is tried for up to MAX_REVIVALS times per call, a second apart after a failed start: a
//   worker that keeps dying is not restarted forever on a struggling phone.
import { FRAME_SAMPLES, type FrameDecoder, type FrameEncoder, type PayloadSink } from "./codec.ts";
import { OpusWasmWorker } from "./opus-wasm-codec.ts";

const MAX_REVIVALS = 3;
const RETRY_MS = 1000;

export class OpusWasmCallCodec {
  private worker: OpusWasmWorker | null = null;
  private enc: FrameEncoder | null = null;
  private dec: FrameDecoder | null = null;
  private sink: PayloadSink | null = null;
  private onLost: (() => void) | null = null;
  private decoding = false;
  private closed = false;
  private unsubscribe: () => void = () => {};
  /** Workers this call has moved to after the first one died. */
  revivals = 0;
  private tries = 0;

  /** Taken up when the call makes its encoder or decoder: a call that never gets that far
   *  leaves nothing on the page's worker. */
  private first: OpusWasmWorker | null;

  constructor(
    worker: OpusWasmWorker,
    private readonly nextWorker: () => Promise<OpusWasmWorker> = () => OpusWasmWorker.forPage(),
  ) {
    this.first = worker;
  }

  private start(): void {
    const w = this.first;
    this.first = null;
    if (!w) return;
    // Dead already (between codecPair and now)? onDeath answers at once, and the call moves on.
    this.attach(w);
  }

  private attach(w: OpusWasmWorker, replacing = false): void {
    if (replacing) this.revivals++;
    this.worker = w;
    w.reset();
    if (this.sink) this.enc = w.encoder(this.sink);
    if (this.decoding) this.dec = w.decoder();
    this.unsubscribe = w.onDeath(() => this.lost(w));
  }

  private lost(w: OpusWasmWorker): void {
    if (this.closed || w !== this.worker) return;
    this.worker = null;
    this.enc = null;
    this.dec = null;
    this.onLost?.();
    this.revive();
  }

  private revive(): void {
    if (this.closed || this.tries >= MAX_REVIVALS) return;
    this.tries++;
    this.nextWorker().then(
      (w) => {
        if (!this.closed) this.attach(w, true);
      },
      () => setTimeout(() => this.revive(), RETRY_MS),
    );
  }

  /** `onLost`: the frames accepted so far will give no payload (the worker died with them). */
  encoder(onPayload: PayloadSink, onLost?: () => void): FrameEncoder {
    this.start();
    this.sink = onPayload;
    this.onLost = onLost ?? null;
    if (this.worker?.alive) this.enc = this.worker.encoder(onPayload);
    return {
      codec: "opus",
      encode: (frame) => this.enc?.encode(frame) ?? false,
      close: () => {
        this.enc?.close();
        this.enc = null;
        this.sink = null;
        this.onLost = null;
        this.closeIfDone();
      },
    };
  }

  decoder(): FrameDecoder {
    this.start();
    this.decoding = true;
    if (this.worker?.alive) this.dec = this.worker.decoder();
    return {
      codec: "opus",
      decode: (payload) => this.dec?.decode(payload) ?? Promise.resolve(new Float32Array(FRAME_SAMPLES)),
      close: () => {
        this.dec?.close();
        this.dec = null;
        this.decoding = false;
        this.closeIfDone();
      },
    };
  }

  private closeIfDone(): void {
    if (this.sink || this.decoding) return;
    this.closed = true;
    // The page's worker outlives the call: leave nothing of this call hanging on it.
    this.unsubscribe();
  }
}
