// Which implementation runs a negotiated codec on this browser. Opus (issue #10): WebCodecs where
// it has an Opus encoder/decoder, else libopus as WebAssembly (opus-wasm-codec.ts), else no Opus
// at all — then negotiation offers only pcmu16, the last resort.
//
// Decisions:
// - Chosen per direction: a browser whose WebCodecs decodes Opus but cannot encode it (or the
//   reverse) uses WebCodecs for the half it has and WASM for the other. Both produce and accept
//   the same raw Opus packets, so the peer cannot tell.
// - The WASM worker and module are only loaded (and the module's 379 KB parsed and compiled) when
//   some half is missing from WebCodecs: a browser with full WebCodecs Opus never touches them.
// - "opus" is offered only after the WASM fallback has actually encoded and decoded a frame here
//   (opusWasmWorks): a blocked CSP, a missing file or no WebAssembly must not negotiate a codec
//   that then fails mid-call.
// - The answer is computed once per page: it cannot change while the page lives.
import type { CodecName, FrameDecoder, FrameEncoder, PayloadSink } from "./codec.ts";
import { OpusDecoder, OpusEncoder, webCodecsOpusDecoder, webCodecsOpusEncoder } from "./opus-codec.ts";
import { OpusWasmCallCodec } from "./opus-wasm-call-codec.ts";
import { OpusWasmWorker, opusWasmWorks } from "./opus-wasm-codec.ts";
import { PcmuDecoder, PcmuEncoder } from "./pcmu-codec.ts";

export type OpusImpl = "webcodecs" | "wasm";
export interface OpusPaths {
  encoder: OpusImpl;
  decoder: OpusImpl;
}

/** What the selection asks the browser; injectable for unit tests. */
export interface OpusProbes {
  webCodecsEncoder(): Promise<boolean>;
  webCodecsDecoder(): Promise<boolean>;
  wasm(): Promise<boolean>;
}

export const BROWSER_PROBES: OpusProbes = {
  webCodecsEncoder: webCodecsOpusEncoder,
  webCodecsDecoder: webCodecsOpusDecoder,
  wasm: () => opusWasmWorks(),
};

/** How this browser would run Opus, or null if it cannot (then only pcmu16 is offered). */
export async function chooseOpusPaths(probes: OpusProbes): Promise<OpusPaths | null> {
  const [enc, dec] = await Promise.all([probes.webCodecsEncoder(), probes.webCodecsDecoder()]);
  if (enc && dec) return { encoder: "webcodecs", decoder: "webcodecs" };
  if (!(await probes.wasm())) return null;
  return { encoder: enc ? "webcodecs" : "wasm", decoder: dec ? "webcodecs" : "wasm" };
}

let cached: Promise<OpusPaths | null> | null = null;

/** chooseOpusPaths for this browser, computed once per page. */
export function opusPaths(): Promise<OpusPaths | null> {
  cached ??= chooseOpusPaths(BROWSER_PROBES).catch(() => null);
  return cached;
}

/** A short label for Call details: "" for WebCodecs (the usual case), else which half is WASM. */
export function opusPathLabel(paths: OpusPaths | null): string {
  if (!paths) return "";
  const { encoder, decoder } = paths;
  if (encoder === "wasm" && decoder === "wasm") return "WebAssembly";
  if (encoder === "wasm") return "WebAssembly encoder";
  if (decoder === "wasm") return "WebAssembly decoder";
  return "";
}

/** Ready-made encoder/decoder constructors for a negotiated codec; the WASM worker (if this browser
 *  needs it) is running before this resolves, so the pipeline can build both synchronously. */
export interface CodecPair {
  codec: CodecName;
  /** "" or what Call details adds after the codec's name (opusPathLabel). */
  label: string;
  /** `onLost`: frames accepted earlier will never give a payload (their codec's worker died). */
  encoder(onPayload: PayloadSink, onLost?: () => void): FrameEncoder;
  decoder(): FrameDecoder;
  /** WASM only: how often this call's codec moved to a new worker after one died. */
  revivals?(): number;
}

export async function codecPair(codec: CodecName, paths: Promise<OpusPaths | null> = opusPaths()): Promise<CodecPair> {
  if (codec === "pcmu16") return { codec, label: "", encoder: (sink) => new PcmuEncoder(sink), decoder: () => new PcmuDecoder() };
  const p = await paths;
  if (!p) throw new Error("Opus was negotiated but this browser can run neither WebCodecs nor WebAssembly Opus");
  // The page's WASM worker (if a half needs it): already running since the support probe, unless
  // it died since; fresh codec state for this call.
  // It moves to a new worker if this one dies mid-call (opus-wasm-call-codec.ts).
  const wasm = p.encoder === "wasm" || p.decoder === "wasm" ? new OpusWasmCallCodec(await OpusWasmWorker.forPage()) : null;
  return {
    codec,
    label: opusPathLabel(p),
    encoder: (onPayload, onLost) => (wasm && p.encoder === "wasm" ? wasm.encoder(onPayload, onLost) : new OpusEncoder(onPayload)),
    decoder: () => (wasm && p.decoder === "wasm" ? wasm.decoder() : new OpusDecoder()),
    ...(wasm ? { revivals: () => wasm.revivals } : {}),
  };
}
