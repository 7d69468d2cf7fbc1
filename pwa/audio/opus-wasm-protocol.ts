// What the main thread and the WebAssembly Opus worker (opus-wasm-worker.ts) say to each other,
// and the encoder settings both sides must agree on. Types and constants only: imported by the
// main bundle and by the worker bundle alike.
import type { EncoderOptions } from "libopus-wasm";
import { FRAME_SAMPLES, SAMPLE_RATE } from "./codec.ts";

/** The encoder settings, mirroring OPUS_ENCODER_CONFIG (WebCodecs, opus-codec.ts) field by field. */
export const OPUS_WASM_ENCODER_OPTIONS = {
  sampleRate: SAMPLE_RATE,
  channels: 1,
  frameSize: FRAME_SAMPLES,
  application: 2048, // OPUS_APPLICATION_VOIP
  bitrate: 24_000,
  vbr: false,
  dtx: false,
  fec: true,
  packetLossPercent: 10,
  // libopus's default is 10; 5 costs 0.48 ms per frame instead of 1.21 in Chromium on this
  // 2-core box (median of 500 frames) for no measurable loss on the speech test (envelope r 0.974
  // vs 0.976), and phones are several times slower.
  complexity: 5,
} as const satisfies EncoderOptions;

/** The slot each Opus payload is padded to (frame-padding.ts): CBR 24 kbit/s gives 60 B, and the
 *  encoder is told never to exceed this, so a packet never has to be dropped for its size. */
export const OPUS_WASM_MAX_PACKET_BYTES = 120;

export type WorkerRequest =
  | { type: "init" }
  | { type: "reset" }
  | { type: "encode"; pcm: Float32Array }
  | { type: "decode"; packet: Uint8Array }
  | { type: "close" };

export type WorkerReply =
  | { type: "ready" }
  | { type: "failed"; reason: string }
  | { type: "packet"; packet: Uint8Array | null }
  | { type: "pcm"; pcm: Float32Array };
