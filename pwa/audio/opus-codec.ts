// Opus through WebCodecs (Chrome/Edge 94+, Safari 26+, Firefox 130+ on desktop; elsewhere the same
// codec runs as WebAssembly, opus-wasm-codec.ts, chosen by codec-select.ts). The encoder runs
// asynchronously: payloads come out of the output callback in order, one per frame (DTX is off:
// silence is sent like speech, IDENTITY.md §7). The decoder is wrapped so each decode() resolves, in order, with one frame.
//
// DTX off also matters for delay: the receiver's only clock for the sender is the frame sequence
// number, which counts *sent* frames; with DTX every pause shorter than the jitter buffer's
// talkspurt gap (300 ms) looked exactly like a late frame and the target jumped to 200+ ms at the
// first pause of a call (measured: the main cause of the old 200–350 ms start-up delay).
import { FRAME_SAMPLES, SAMPLE_RATE, type FrameDecoder, type FrameEncoder, type PayloadSink } from "./codec.ts";

export const OPUS_ENCODER_CONFIG = {
  codec: "opus",
  sampleRate: SAMPLE_RATE,
  numberOfChannels: 1,
  bitrate: 24_000,
  // Constant bitrate and no DTX (IDENTITY.md §7): frame sizes and timing must not follow speech.
  bitrateMode: "constant",
  // Complexity is left to the browser (Chromium: 9 on desktop). 5, as the WebAssembly path runs
  // (opus-wasm-protocol.ts), was tried on 2026-12-02: the link worker's CPU fell ~12 %, but the
  // pipeline test's speech correlation fell from 0.93–0.98 to 0.86–0.92 and failed in CI.
  opus: { frameDuration: 20_000, application: "voip", packetlossperc: 10, useinbandfec: true, usedtx: false },
} as const;

export const OPUS_DECODER_CONFIG = { codec: "opus", sampleRate: SAMPLE_RATE, numberOfChannels: 1 } as const;

/** Frames waiting in the encoder beyond this are dropped: late audio is worse than a gap. */
const MAX_ENCODE_QUEUE = 10;

type WebCodecsGlobals = { AudioEncoder?: typeof AudioEncoder; AudioDecoder?: typeof AudioDecoder };

/** WebCodecs can encode Opus with exactly OPUS_ENCODER_CONFIG. */
export async function webCodecsOpusEncoder(): Promise<boolean> {
  const g = globalThis as WebCodecsGlobals;
  if (!g.AudioEncoder || typeof AudioData === "undefined") return false;
  try {
    return (await g.AudioEncoder.isConfigSupported(OPUS_ENCODER_CONFIG as AudioEncoderConfig)).supported === true;
  } catch {
    return false;
  }
}

/** WebCodecs can decode Opus (mono, 48 kHz). */
export async function webCodecsOpusDecoder(): Promise<boolean> {
  const g = globalThis as WebCodecsGlobals;
  if (!g.AudioDecoder || typeof EncodedAudioChunk === "undefined") return false;
  try {
    return (await g.AudioDecoder.isConfigSupported(OPUS_DECODER_CONFIG)).supported === true;
  } catch {
    return false;
  }
}

export class OpusEncoder implements FrameEncoder {
  readonly codec = "opus" as const;
  private encoder: AudioEncoder | null = null;
  private timestampUs = 0;
  private failed = false;

  constructor(private readonly onPayload: PayloadSink) {
    this.open();
  }

  private open(): void {
    this.encoder = new AudioEncoder({
      output: (chunk) => {
        const payload = new Uint8Array(chunk.byteLength);
        chunk.copyTo(payload);
        if (payload.byteLength > 0) this.onPayload(payload);
      },
      // A codec error must not end the call: reopen on the next frame.
      error: () => {
        this.failed = true;
      },
    });
    this.encoder.configure(OPUS_ENCODER_CONFIG as AudioEncoderConfig);
    this.failed = false;
  }

  encode(frame: Float32Array): boolean {
    if (this.failed || !this.encoder || this.encoder.state === "closed") this.open();
    const enc = this.encoder!;
    if (enc.encodeQueueSize > MAX_ENCODE_QUEUE) return false;
    const data = new AudioData({
      format: "f32-planar",
      sampleRate: SAMPLE_RATE,
      numberOfFrames: FRAME_SAMPLES,
      numberOfChannels: 1,
      timestamp: this.timestampUs,
      data: frame as Float32Array<ArrayBuffer>,
    });
    this.timestampUs += 20_000;
    try {
      enc.encode(data);
    } finally {
      data.close();
    }
    return true;
  }

  close(): void {
    if (this.encoder && this.encoder.state !== "closed") this.encoder.close();
    this.encoder = null;
  }
}

export class OpusDecoder implements FrameDecoder {
  readonly codec = "opus" as const;
  private decoder: AudioDecoder | null = null;
  private readonly waiting: ((pcm: Float32Array) => void)[] = [];
  private timestampUs = 0;

  private open(): AudioDecoder {
    const decoder = new AudioDecoder({
      output: (data) => {
        const pcm = new Float32Array(FRAME_SAMPLES);
        const n = Math.min(FRAME_SAMPLES, data.numberOfFrames);
        const tmp = new Float32Array(data.numberOfFrames);
        data.copyTo(tmp, { planeIndex: 0, format: "f32-planar" });
        pcm.set(tmp.subarray(0, n));
        data.close();
        this.waiting.shift()?.(pcm);
      },
      error: () => {
        // Pending frames become silence (the concealer fades into it); the next decode reopens.
        for (const resolve of this.waiting.splice(0)) resolve(new Float32Array(FRAME_SAMPLES));
        this.decoder = null;
      },
    });
    decoder.configure(OPUS_DECODER_CONFIG);
    return decoder;
  }

  decode(payload: Uint8Array): Promise<Float32Array> {
    if (!this.decoder || this.decoder.state === "closed") this.decoder = this.open();
    const decoder = this.decoder;
    return new Promise<Float32Array>((resolve) => {
      this.waiting.push(resolve);
      const chunk = new EncodedAudioChunk({ type: "key", timestamp: this.timestampUs, data: payload });
      this.timestampUs += 20_000;
      try {
        decoder.decode(chunk);
      } catch {
        this.waiting.pop();
        resolve(new Float32Array(FRAME_SAMPLES));
      }
    });
  }

  close(): void {
    if (this.decoder && this.decoder.state !== "closed") this.decoder.close();
    this.decoder = null;
    for (const resolve of this.waiting.splice(0)) resolve(new Float32Array(FRAME_SAMPLES));
  }
}
