// The dedicated worker that runs libopus (WebAssembly) for opus-wasm-codec.ts, off the main
// thread as WebCodecs runs its codecs: one per page, with one encoder and one decoder, made fresh
// for each call ("reset"). Messages are handled strictly in order, so payloads and PCM come back
// in the order frames went in.
//
// Built on its own (opus-wasm-build.ts) into /audio/opus-worker.js, with "libopus-wasm" left as an
// import of the sibling /audio/libopus.js: the library is never part of main.js.
import { createDecoder, createEncoder, type OpusDecoderHandle, type OpusEncoderHandle } from "libopus-wasm";
import { FRAME_SAMPLES, SAMPLE_RATE } from "./codec.ts";
import { OPUS_WASM_ENCODER_OPTIONS, OPUS_WASM_MAX_PACKET_BYTES, type WorkerReply, type WorkerRequest } from "./opus-wasm-protocol.ts";

declare const self: DedicatedWorkerGlobalScope;

let encoder: OpusEncoderHandle | null = null;
let decoder: OpusDecoderHandle | null = null;

function reply(m: WorkerReply, transfer: Transferable[] = []): void {
  self.postMessage(m, transfer);
}

// Creation is asynchronous (the module compiles on first use); later messages wait for it.
let ready: Promise<void> = Promise.resolve();

self.onmessage = (e: MessageEvent<WorkerRequest>) => {
  const m = e.data;
  ready = ready.then(() => handle(m)).catch(() => {});
};

/** Fresh codec state (a new call must not inherit the last one's). */
async function createCodecs(): Promise<void> {
  encoder?.free();
  decoder?.free();
  encoder = await createEncoder(OPUS_WASM_ENCODER_OPTIONS);
  decoder = await createDecoder({ sampleRate: SAMPLE_RATE, channels: 1 });
}

/** Runs the codec over 2 s of a synthetic voice-like signal so the engine has compiled the hot
 *  paths with its optimising tier before a call needs them: otherwise that compilation happens in
 *  the call's first seconds, competing with the audio for the CPU. */
function warmUp(): void {
  const frame = new Float32Array(FRAME_SAMPLES);
  let seed = 1;
  for (let f = 0, t = 0; f < WARM_UP_FRAMES; f++) {
    for (let i = 0; i < FRAME_SAMPLES; i++, t++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const pitch = 140 + 40 * Math.sin(t / 9000);
      frame[i] = 0.3 * Math.sin((2 * Math.PI * pitch * t) / SAMPLE_RATE) * (0.6 + 0.4 * Math.sin(t / 2400)) + 0.02 * (seed / 2 ** 32 - 0.5);
    }
    decoder!.decodeFloat(encoder!.encodeFloat(frame, { maxPacketBytes: OPUS_WASM_MAX_PACKET_BYTES }));
  }
}

const WARM_UP_FRAMES = 100;

async function handle(m: WorkerRequest): Promise<void> {
  switch (m.type) {
    case "init":
      try {
        await createCodecs();
        warmUp();
        await createCodecs();
        reply({ type: "ready" });
      } catch (err) {
        reply({ type: "failed", reason: err instanceof Error ? err.name : "error" });
      }
      return;
    case "reset":
      try {
        await createCodecs();
      } catch {
        encoder = decoder = null; // every frame is then dropped (encode) or silent (decode)
      }
      return;
    case "encode": {
      let packet: Uint8Array | null = null;
      try {
        packet = encoder ? encoder.encodeFloat(m.pcm, { maxPacketBytes: OPUS_WASM_MAX_PACKET_BYTES }) : null;
      } catch {
        // A libopus error: this frame has no payload (the caller skips its seq).
      }
      reply({ type: "packet", packet }, packet ? [packet.buffer] : []);
      return;
    }
    case "decode": {
      // Exactly one 960-sample frame whatever arrives: a corrupt packet plays as silence (the
      // concealer fades into it), a longer one is cut, as the WebCodecs path does.
      const pcm = new Float32Array(FRAME_SAMPLES);
      try {
        if (decoder && m.packet.byteLength > 0) pcm.set(decoder.decodeFloat(m.packet).subarray(0, FRAME_SAMPLES));
      } catch {
        // Invalid packet: silence for this slot.
      }
      reply({ type: "pcm", pcm }, [pcm.buffer]);
      return;
    }
    case "close":
      encoder?.free();
      decoder?.free();
      encoder = decoder = null;
      self.close();
  }
}
