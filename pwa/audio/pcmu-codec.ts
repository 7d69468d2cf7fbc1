// "pcmu16": G.711 μ-law at 16 kHz — wideband speech (up to 7 kHz) with no WebCodecs at all, for
// browsers without an Opus AudioEncoder (older Safari, Firefox builds without WebCodecs audio).
// 320 bytes per 20 ms frame (128 kbit/s): heavy next to Opus, fine over any usable link.
import { FRAME_SAMPLES, type FrameDecoder, type FrameEncoder, type PayloadSink } from "./codec.ts";
import { decodeMulaw, encodeMulaw } from "./mulaw.ts";
import { Decimator3, Interpolator3 } from "./rate3.ts";

export const PCMU16_FRAME_BYTES = FRAME_SAMPLES / 3; // 320

export class PcmuEncoder implements FrameEncoder {
  readonly codec = "pcmu16" as const;
  private readonly down = new Decimator3();
  constructor(private readonly onPayload: PayloadSink) {}

  encode(frame: Float32Array): boolean {
    if (frame.length !== FRAME_SAMPLES) throw new RangeError(`expected ${FRAME_SAMPLES} samples`);
    this.onPayload(encodeMulaw(this.down.process(frame)));
    return true;
  }

  close(): void {}
}

export class PcmuDecoder implements FrameDecoder {
  readonly codec = "pcmu16" as const;
  private readonly up = new Interpolator3();

  decode(payload: Uint8Array): Promise<Float32Array> {
    return Promise.resolve(this.decodeSync(payload));
  }

  decodeSync(payload: Uint8Array): Float32Array {
    // A malformed length would shift the timeline; play exactly one frame whatever arrives.
    const codes = new Uint8Array(PCMU16_FRAME_BYTES).fill(0xff); // 0xff = μ-law zero
    codes.set(payload.subarray(0, PCMU16_FRAME_BYTES));
    return this.up.process(decodeMulaw(codes));
  }

  close(): void {}
}
