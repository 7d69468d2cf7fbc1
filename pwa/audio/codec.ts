// One interface for every codec so the call pipeline never branches on which one was negotiated.
// All PCM crossing these interfaces is mono Float32 at 48 kHz in 20 ms frames (960 samples):
// the capture worklet produces exactly that and the playback worklet consumes exactly that.

export type CodecName = "opus" | "pcmu16";

export const SAMPLE_RATE = 48_000;
export const FRAME_MS = 20;
export const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000; // 960

export interface FrameEncoder {
  readonly codec: CodecName;
  /** Takes one 960-sample frame; its payload is delivered through the onPayload callback given at
   *  creation, exactly one per accepted frame, in order. Returns false if the frame was dropped
   *  instead (encoder backlog): then no payload comes for it. */
  encode(frame: Float32Array): boolean;
  close(): void;
}

export interface FrameDecoder {
  readonly codec: CodecName;
  /** Resolves in call order with a 960-sample frame. */
  decode(payload: Uint8Array): Promise<Float32Array>;
  close(): void;
}

export type PayloadSink = (payload: Uint8Array) => void;
