// Browser side of test/browser/opus-wasm.test.ts. The same page serves two roles: loaded as is,
// it has WebCodecs and can cross the two Opus implementations (encode with one, decode with both);
// loaded after an init script removed AudioEncoder/AudioDecoder, it is a browser without WebCodecs
// Opus and runs the call pipeline (pipeline-page.ts) on the WebAssembly fallback.
import "./pipeline-page.ts";
import { FRAME_SAMPLES, type FrameDecoder, type FrameEncoder } from "../../../pwa/audio/codec.ts";
import { opusPaths } from "../../../pwa/audio/codec-select.ts";
import { OpusDecoder, OpusEncoder } from "../../../pwa/audio/opus-codec.ts";
import { OpusWasmWorker } from "../../../pwa/audio/opus-wasm-codec.ts";
import { toBase64Int16 } from "./pcm-transfer.ts";

type Impl = "webcodecs" | "wasm";

function fromBase64Int16(b64: string): Float32Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return Float32Array.from(new Int16Array(bytes.buffer), (v) => v / 32768);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function encodeAll(impl: Impl, pcm: Float32Array): Promise<Uint8Array[]> {
  const packets: Uint8Array[] = [];
  const sink = (p: Uint8Array) => packets.push(p.slice());
  const enc: FrameEncoder = impl === "wasm" ? (await OpusWasmWorker.start()).encoder(sink) : new OpusEncoder(sink);
  const frames = Math.floor(pcm.length / FRAME_SAMPLES);
  for (let i = 0; i < frames; i++) {
    const frame = pcm.slice(i * FRAME_SAMPLES, (i + 1) * FRAME_SAMPLES);
    // Both refuse frames beyond their queue limit (return false): wait and hand it over again.
    while (!enc.encode(frame)) await sleep(2);
  }
  const deadline = performance.now() + 10_000;
  while (packets.length < frames && performance.now() < deadline) await sleep(10);
  enc.close();
  return packets;
}

async function decodeAll(impl: Impl, packets: Uint8Array[]): Promise<Float32Array[]> {
  const dec: FrameDecoder = impl === "wasm" ? (await OpusWasmWorker.start()).decoder() : new OpusDecoder();
  const out = await Promise.all(packets.map((p) => dec.decode(p)));
  dec.close();
  return out;
}

/** Encodes the PCM with `encoder`, decodes the packets with both implementations. */
async function crossCode(b64: string, encoder: Impl) {
  const packets = await encodeAll(encoder, fromBase64Int16(b64));
  const [wasm, webcodecs] = [await decodeAll("wasm", packets), await decodeAll("webcodecs", packets)];
  return {
    sizes: packets.map((p) => p.byteLength),
    wasm: toBase64Int16(wasm),
    webcodecs: toBase64Int16(webcodecs),
  };
}

/** Which implementation this page's calls would use, and whether the WASM worker was fetched. */
async function opusState() {
  const paths = await opusPaths();
  const fetched = performance.getEntriesByType("resource").some((e) => e.name.includes("/audio/opus-worker.js"));
  return { paths, fetched, webCodecs: typeof (globalThis as { AudioEncoder?: unknown }).AudioEncoder !== "undefined" };
}

Object.assign(globalThis, { crossCode, opusState });
(globalThis as { opusWasmReady?: boolean }).opusWasmReady = true;
