// The per-frame half of a call's audio, between the worklets and the network:
//   capture port {frame, at} → stale check → encoder → sendPayload
//   receive(seq, payload) → in-order decode → playback port {frame | arrived}; {missed} back
// It touches no DOM and no AudioContext, so the same code runs in the link worker (the app's
// calls: media-session.ts, off the page's main thread) and in the page (startCallAudio without a
// media host: the audio tests and the pipeline harness).
//
// Captured frames that reach this side more than STALE_CAPTURE_MS after capture (a frozen
// thread, a long GC) are dropped instead of sent: the peer would only have to drop them again.
import type { FrameDecoder, FrameEncoder } from "./codec.ts";
import type { CodecPair } from "./codec-select.ts";
import { DecodeOrder } from "./decode-order.ts";

/** Captured audio older than this when it reaches the encoder is not sent. */
export const STALE_CAPTURE_MS = 300;

/** The one end of a MessageChannel this side needs (a MessagePort, or a stand-in in unit tests). */
export interface FramePort {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(msg: unknown, transfer?: Transferable[]): void;
  close?(): void;
}

export interface FramePipelineOptions {
  sendPayload: (payload: Uint8Array) => void;
  /** Captured frames were dropped before encoding: the sequence number must skip them, so the
   *  receiver's timeline stays true. */
  skipFrames?: (n: number) => void;
  /** Whether captured audio is encoded and sent from the start. */
  sending: boolean;
  /** Every captured frame handed to the encoder (tests and the latency benchmark only). */
  onCapturedPcm?: (pcm: Float32Array, atMs: number) => void;
}

export interface FramePipelineStats {
  sentFrames: number;
  sentBytes: number;
  staleDropped: number;
  codecRestarts: number;
}

export class FramePipeline {
  private sending: boolean;
  private muted = false;
  private stopped = false;
  private sentFrames = 0;
  private sentBytes = 0;
  private staleDropped = 0;
  // The fate of every captured frame handed to the encoder, oldest first: true = in the encoder,
  // its payload still to come; false = dropped (stale, or the encoder was backed up). A dropped
  // frame must use up its seq exactly where it was in capture order, or the frames around it
  // would look early or late to the receiver (seq is its only clock for us); the encoder answers
  // asynchronously, so drops wait here behind the frames still being encoded.
  private readonly fates: boolean[] = [];
  private readonly encoder: FrameEncoder;
  private readonly decoder: FrameDecoder;
  private readonly order: DecodeOrder<Uint8Array>;
  private expiry: ReturnType<typeof setTimeout> | null = null;
  // Decoding may be asynchronous (WebCodecs); frames must still reach the worklet in order.
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly codecs: CodecPair,
    private readonly capture: FramePort,
    private readonly playback: FramePort,
    private readonly opts: FramePipelineOptions,
  ) {
    this.sending = opts.sending;
    // A WASM worker that died took the frames it was encoding with it: they are drops now.
    this.encoder = codecs.encoder(
      (payload) => this.send(payload),
      () => {
        this.fates.fill(false);
        this.skipDropped();
      },
    );
    this.decoder = codecs.decoder();
    // A frame held behind a gap is announced to the jitter buffer at once; the buffer says when
    // it has given the gap up (it conceals the missing slot on schedule), and the held frames go on.
    this.order = new DecodeOrder<Uint8Array>(
      (seq, payload) => this.decodeNow(seq, payload),
      60,
      (seq) => {
        if (!this.stopped) this.playback.postMessage({ type: "arrived", seq });
      },
    );
    capture.onmessage = (e: MessageEvent<{ frame?: Float32Array; at?: number }>) => {
      const { frame, at } = e.data;
      if (frame instanceof Float32Array && typeof at === "number") this.captured(frame, at);
    };
    playback.onmessage = (e: MessageEvent<{ type?: string; seq?: number }>) => {
      if (e.data.type === "missed" && typeof e.data.seq === "number") this.order.giveUpThrough(e.data.seq);
    };
  }

  receive(seq: number, payload: Uint8Array): void {
    if (this.stopped) return;
    this.order.push(seq, payload, performance.now());
    if (!this.expiry) this.expire();
  }

  setSending(on: boolean): void {
    this.sending = on;
  }

  /** Muted = no frames at all: the peer's jitter buffer treats the gap like DTX silence. */
  setMuted(m: boolean): void {
    this.muted = m;
  }

  stats(): FramePipelineStats {
    return { sentFrames: this.sentFrames, sentBytes: this.sentBytes, staleDropped: this.staleDropped, codecRestarts: this.codecs.revivals?.() ?? 0 };
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.expiry) clearTimeout(this.expiry);
    this.capture.onmessage = null;
    this.playback.onmessage = null;
    this.capture.close?.();
    this.playback.close?.();
    this.encoder.close();
    this.decoder.close();
  }

  private captured(frame: Float32Array, at: number): void {
    if (!this.sending || this.muted || this.stopped) return;
    if (Date.now() - at > STALE_CAPTURE_MS) {
      this.staleDropped++;
      this.fates.push(false);
      return this.skipDropped();
    }
    this.opts.onCapturedPcm?.(frame.slice(), at);
    // An encoder that lost its queue (error, reopen) never answers for it: don't wait forever.
    if (this.fates.length > 50) this.fates.splice(0, this.fates.length - 50);
    this.fates.push(true);
    if (!this.encoder.encode(frame)) {
      this.fates[this.fates.length - 1] = false;
      this.skipDropped();
    }
  }

  private send(payload: Uint8Array): void {
    if (this.stopped) return;
    this.skipDropped();
    this.fates.shift();
    this.sentFrames++;
    this.sentBytes += payload.byteLength;
    this.opts.sendPayload(payload);
    this.skipDropped();
  }

  private skipDropped(): void {
    let n = 0;
    while (this.fates[0] === false) {
      this.fates.shift();
      n++;
    }
    if (n && !this.stopped) this.opts.skipFrames?.(n);
  }

  private decodeNow(seq: number, payload: Uint8Array): void {
    const pending = this.decoder.decode(payload);
    this.chain = this.chain
      .then(() => pending)
      .then((pcm) => {
        if (!this.stopped) this.playback.postMessage({ type: "frame", seq, pcm }, [pcm.buffer as ArrayBuffer]);
      })
      .catch(() => {});
  }

  private expire(): void {
    this.expiry = null;
    const wait = this.order.expire(performance.now());
    if (wait !== null && !this.stopped) this.expiry = setTimeout(() => this.expire(), wait);
  }
}
