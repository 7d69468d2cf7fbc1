// The call's audio, as the UI uses it:
//   mic → capture worklet (20 ms @ 48 kHz) ─media port→ frame pipeline → encoder → sendPayload
//   receive(seq, payload) → frame pipeline → decoder ─media port→ playback worklet
//                                               [jitter buffer → concealer] → speaker
// This file owns the audio graph (context, microphone, worklets, output route, meter, the
// worklet's statistics). The per-frame work (frame-pipeline.ts) talks to the worklets through
// MessagePorts and runs either here, in the page (`sendPayload`/`receive`: the audio tests), or
// elsewhere (`remote`: the app runs it in the link worker with the socket and the frame
// encryption, so the page's main thread — rendering, GC, key confirmation — never holds a frame).
//
// iOS only lets an AudioContext start (and play) when it is created or resumed inside a user
// gesture, but the codec — and so startCallAudio — is only known after the key exchange, long after
// the tap. prepareCallAudio() therefore does everything that needs the gesture at the tap and
// hands the unlocked context to startCallAudio later.
import { FRAME_SAMPLES, type CodecName } from "./codec.ts";
import { codecPair, opusPathLabel, opusPaths, type OpusPaths } from "./codec-select.ts";
import { FramePipeline, type FramePipelineStats } from "./frame-pipeline.ts";
import type { JitterBufferStats, RecentStats } from "./jitter-buffer.ts";
import { rmsToMeter } from "./meter.ts";
import { openMic } from "./mic.ts";
import { configureAudioSession, OutputRoute, type OutputMode } from "./output-route.ts";
import { callQuality, type Quality } from "./quality.ts";

export type { CodecName } from "./codec.ts";
export { chooseCodec, supportedCodecs } from "./negotiate.ts";
export { CallWakeLock, type WakeLockState } from "./wake-lock.ts";

export interface PrepareOptions {
  /** URL prefix where the worklet files are served, default "/audio/". */
  workletBase?: string;
}

/** An AudioContext unlocked inside a user gesture, waiting for startCallAudio. */
export interface PreparedCallAudio {
  readonly context: AudioContext;
  readonly workletBase: string;
  /** Resolves once the context was asked to run and the worklets are loaded; rejects if they fail to load. */
  readonly ready: Promise<void>;
  /** Releases the context if the call ends before startCallAudio took it over (idempotent;
   *  after startCallAudio, CallAudio.stop() is what releases it). */
  close(): Promise<void>;
}

/** The worklets' ends of the media ports; the frame pipeline takes the other ends. */
export interface MediaPorts {
  capture: MessagePort;
  playback: MessagePort;
}

/** A frame pipeline running elsewhere (the link worker), as the page steers it. */
export interface RemoteFramePipeline {
  setSending(on: boolean): void;
  setMuted(m: boolean): void;
  /** The latest figures it reported (they lag by up to a few hundred milliseconds). */
  stats(): FramePipelineStats;
  stop(): void;
}

/** What a frame pipeline elsewhere is started with; `paths` is this page's Opus choice (codec-select.ts). */
export interface RemotePipelineSetup {
  codec: CodecName;
  paths: OpusPaths | null;
  sending: boolean;
  onCapturedPcm?: (pcm: Float32Array, atMs: number) => void;
}

/** Starts a frame pipeline elsewhere on these ports; resolves once its codecs are ready,
 *  rejects if they cannot be made there. */
export type RemotePipelineStarter = (ports: MediaPorts, setup: RemotePipelineSetup) => Promise<RemoteFramePipeline>;

export interface CallAudioOptions {
  codec: CodecName;
  /** From prepareCallAudio() in the user's tap. Without it a new context is created here, which
   *  only works if this call itself runs inside a gesture (or on browsers without that rule). */
  prepared?: PreparedCallAudio;
  /** Runs the frame pipeline in the page: every encoded payload comes out here, and receive()
   *  takes the peer's. Exactly one of `sendPayload` and `remote` is given. */
  sendPayload?: (payload: Uint8Array) => void;
  /** Captured frames were dropped before encoding (stale after a stall): the sequence number
   *  should skip them, so the receiver's timeline stays true. With `sendPayload` only. */
  skipFrames?: (n: number) => void;
  /** Runs the frame pipeline elsewhere (the app: the link worker); receive() is then unused. */
  remote?: RemotePipelineStarter;
  mode?: OutputMode;
  volume?: number /* 0..1 */;
  /** A stream the caller already opened; then stop() leaves its tracks running. */
  micStream?: MediaStream;
  /** URL prefix where the worklet files are served, default "/audio/"; ignored with `prepared`. */
  workletBase?: string;
  /** Whether captured audio is encoded and sent from the start (default true). Pass false to
   *  run the microphone and playback before key confirmation, then setSending(true) once the
   *  peer's confirm verified. */
  sending?: boolean;
  /** Receives every 20 ms frame as it goes to the speaker (48 kHz, after concealment, before
   *  volume) and the wall-clock time (Date.now() scale) its first sample leaves the playback
   *  node. For tests and the latency benchmark; costs one message per frame. */
  onDecodedPcm?: (pcm: Float32Array, atMs: number) => void;
  /** Receives every captured 20 ms frame (48 kHz) that is handed to the encoder, and the wall-clock
   *  time its last sample entered the graph. Tests and the latency benchmark only. */
  onCapturedPcm?: (pcm: Float32Array, atMs: number) => void;
}

/** What "Call details" shows: the figures people and support ask for. Delay figures are this
 *  side's receive path; `sendKbps` is what this side sends (payload only). */
export interface CallDetails {
  codec: CodecName;
  /** "" where the codec runs the usual way; "WebAssembly" (or "WebAssembly encoder/decoder")
   *  where Opus runs on the WASM fallback (codec-select.ts). */
  codecPath: string;
  sendKbps: number;
  jitterMs: number;
  /** What the jitter buffer aims for, and what it measured it actually added. */
  targetDelayMs: number;
  playoutDelayMs: number;
  /** The part of the target that rides out recurring stalls (stall-cover.ts); 0 while none recur. */
  stallCoverMs: number;
  /** AudioContext base + output latency: the device's share (CALL_LATENCY_HINT says why not less). */
  outputLatencyMs: number;
  /** Times the output ran dry during the call (a click or gap heard), where the browser counts
   *  them (AudioContext.playbackStats, Chromium); null elsewhere. */
  outputUnderruns: number | null;
  /** Last few seconds: slots lost, and slots filled by concealment (lost or late). */
  lossPercent: number;
  concealedPercent: number;
  /** Whole call: stalls seen, received frames dropped to catch up (backlogs, compression),
   *  captured frames dropped as stale before sending. */
  stalls: number;
  catchUpDropped: number;
  staleDropped: number;
  /** WebAssembly Opus only: how often the call's codec moved to a new worker after one died. */
  codecRestarts: number;
}

/** The last few seconds (`windowMs`), not the whole call: what the quality indicator shows must
 *  recover once the network does. Whole-call totals are in detailedStats(). */
export interface CallAudioStats {
  lossPercent: number;
  jitterMs: number;
  targetDelayMs: number;
  concealed: number;
  late: number;
  windowMs: number;
  quality: Quality;
}

export interface CallAudio {
  /** The peer's payload, in the page-run pipeline (`sendPayload`); ignored with `remote`. */
  receive(seq: number, payload: Uint8Array): void;
  setMuted(m: boolean): void;
  setMode(m: OutputMode): void;
  setVolume(v: number): void;
  setSending(on: boolean): void;
  /** 0..1 for the meter; 0 while muted, so the meter never suggests the peer hears you. */
  micLevel(): number;
  stats(): CallAudioStats;
  /** Whole-call totals from the jitter buffer, the recent window, the codec and the AudioContext's rate. */
  detailedStats(): JitterBufferStats & { recent: RecentStats; codec: CodecName; codecPath: string; sampleRate: number; sentFrames: number; sentBytes: number; staleDropped: number };
  details(): CallDetails;
  stop(): Promise<void>;
}

/** Not the smallest callback the platform allows (`0`): in headless Chromium that takes the
 *  output from 40 to 10.7 ms, but the audio thread then misses its deadlines on a busy device —
 *  4–16 underruns (clicks) per 15 s call against 0–1, +30 % renderer CPU, and the start-up
 *  bursts came later (BENCHMARKS.md, 2026-12-02). Android's "interactive" is already its
 *  low-latency path. */
const CALL_LATENCY_HINT: AudioContextLatencyCategory = "interactive";

function createContext(): AudioContext {
  try {
    return new AudioContext({ sampleRate: 48_000, latencyHint: CALL_LATENCY_HINT });
  } catch {
    return new AudioContext({ latencyHint: CALL_LATENCY_HINT });
  }
}

async function loadWorklets(ctx: AudioContext, base: string): Promise<void> {
  const prefix = base.endsWith("/") ? base : base + "/";
  await ctx.audioWorklet.addModule(prefix + "capture-worklet.js");
  await ctx.audioWorklet.addModule(prefix + "playback-worklet.js");
}

/**
 * Call synchronously inside the user's tap (Call / Accept), before opening the microphone: it
 * sets the iOS audio session to a two-way call, creates the call's AudioContext and resumes it
 * while the gesture is still active, and starts a silent buffer (older iOS only unlocks output
 * for a sound started inside a gesture). The worklets load in the background.
 */
export function prepareCallAudio(opts: PrepareOptions = {}): PreparedCallAudio {
  configureAudioSession();
  const ctx = createContext();
  const resumed = ctx.resume().catch(() => {});
  try {
    const buffer = ctx.createBuffer(1, 1, ctx.sampleRate);
    const src = ctx.createBufferSource();
    src.buffer = buffer;
    src.connect(ctx.destination);
    src.start();
  } catch {
    // Only an unlock aid; the resume above is what current browsers need.
  }
  const workletBase = opts.workletBase ?? "/audio/";
  const ready = resumed.then(() => loadWorklets(ctx, workletBase));
  // Nobody may await `ready` if the call ends first; that must not surface as an unhandled rejection.
  ready.catch(() => {});
  return {
    context: ctx,
    workletBase,
    ready,
    close: () => (ctx.state === "closed" ? Promise.resolve() : ctx.close().catch(() => {})),
  };
}

/**
 * Starts the call's audio. Pass `prepared` (from prepareCallAudio in the tap) when this runs
 * outside a gesture, e.g. after the key exchange; otherwise this must itself run from a tap.
 */
export async function startCallAudio(opts: CallAudioOptions): Promise<CallAudio> {
  const prepared = opts.prepared ?? prepareCallAudio(opts.workletBase !== undefined ? { workletBase: opts.workletBase } : {});
  let ctx = prepared.context;
  const workletBase = prepared.workletBase;
  const ownStream = !opts.micStream;
  let stream: MediaStream | undefined;
  try {
    stream = opts.micStream ?? (await openMic());
    await prepared.ready;
    // Closed = the call ended meanwhile; carrying on would build (or, below, re-create) a context for nothing.
    if (ctx.state === "closed") throw new Error("the prepared AudioContext was closed");
    // Harmless where it is running; recovers an iOS "interrupted" context (e.g. a phone call
    // between the tap and now) on browsers that allow it.
    if (ctx.state !== "running") void ctx.resume().catch(() => {});
    let source: MediaStreamAudioSourceNode;
    try {
      source = ctx.createMediaStreamSource(stream);
    } catch {
      // Firefox cannot connect a microphone to a context at another rate: use the device's rate
      // and let the worklets resample. A context made outside the gesture is fine there: Firefox
      // lets a page that is capturing the microphone play audio.
      await ctx.close();
      ctx = new AudioContext({ latencyHint: CALL_LATENCY_HINT });
      await ctx.resume().catch(() => {});
      await loadWorklets(ctx, workletBase);
      source = ctx.createMediaStreamSource(stream);
    }
    if (ctx.state === "closed") throw new Error("the prepared AudioContext was closed");
    return await wire(ctx, source, stream, ownStream, opts);
  } catch (e) {
    if (ownStream) stream?.getTracks().forEach((t) => t.stop());
    await ctx.close().catch(() => {});
    throw e;
  }
}

async function wire(ctx: AudioContext, source: MediaStreamAudioSourceNode, stream: MediaStream, ownStream: boolean, opts: CallAudioOptions): Promise<CallAudio> {
  let muted = false;
  let level = 0;
  let stopped = false;
  // Filled by the playback worklet every 100 ms.
  let jitterStats: JitterBufferStats = {
    received: 0, played: 0, concealed: 0, late: 0, duplicate: 0, skipped: 0, underruns: 0, slots: 0, lost: 0,
    lossPercent: 0, jitterMs: 0, targetDelayMs: 0, playoutDelayMs: 0, bufferedMs: 0, stalls: 0, stallCoverMs: 0,
  };
  let recent: RecentStats = { windowMs: 5000, slots: 0, lost: 0, lossPercent: 0, concealed: 0, late: 0, arrivals: 0, jitterMs: 0 };
  const rate = { atMs: performance.now(), bytes: 0, kbps: 0 };

  const capture = new AudioWorkletNode(ctx, "voicesrv-capture", {
    numberOfInputs: 1,
    numberOfOutputs: 1,
    outputChannelCount: [1],
    channelCount: 1,
    channelCountMode: "explicit",
    channelInterpretation: "speakers",
  });
  capture.port.onmessage = (e: MessageEvent<{ rms?: number }>) => {
    if (typeof e.data.rms === "number") level = e.data.rms;
  };
  const playback = new AudioWorkletNode(ctx, "voicesrv-playback", {
    numberOfInputs: 0,
    numberOfOutputs: 1,
    outputChannelCount: [1],
    processorOptions: { tap: !!opts.onDecodedPcm, gain: 0 },
  });
  playback.port.onmessage = (e: MessageEvent<{ type: string; pcm?: Float32Array; at?: number; jitter?: JitterBufferStats; recent?: RecentStats }>) => {
    if (e.data.type === "stats" && e.data.jitter && e.data.recent) {
      jitterStats = e.data.jitter;
      recent = e.data.recent;
    } else if (e.data.type === "played" && e.data.pcm?.length === FRAME_SAMPLES) opts.onDecodedPcm?.(e.data.pcm, e.data.at ?? Date.now());
  };
  const captureMedia = new MessageChannel();
  const playbackMedia = new MessageChannel();
  capture.port.postMessage({ type: "media", port: captureMedia.port1 }, [captureMedia.port1]);
  playback.port.postMessage({ type: "media", port: playbackMedia.port1 }, [playbackMedia.port1]);
  const ports: MediaPorts = { capture: captureMedia.port2, playback: playbackMedia.port2 };

  // The frame pipeline comes after the nodes: if a node could not be made, no encoder or decoder
  // (nor a WASM worker's death listener) is left behind by a call that never started.
  let pipeline: FramePipeline | RemoteFramePipeline;
  let local: FramePipeline | null = null;
  let label = "";
  const sending = opts.sending ?? true;
  try {
    if (opts.remote) {
      const paths = opts.codec === "opus" ? await opusPaths() : null;
      label = opusPathLabel(paths);
      pipeline = await opts.remote(ports, { codec: opts.codec, paths, sending, ...(opts.onCapturedPcm ? { onCapturedPcm: opts.onCapturedPcm } : {}) });
    } else {
      if (!opts.sendPayload) throw new TypeError("startCallAudio needs sendPayload or remote");
      // Loads the WebAssembly Opus module here if this browser needs it (already cached by then:
      // supportedCodecs() loaded it to offer "opus").
      const codecs = await codecPair(opts.codec);
      label = codecs.label;
      ports.capture.start();
      ports.playback.start();
      pipeline = local = new FramePipeline(codecs, ports.capture, ports.playback, {
        sendPayload: opts.sendPayload,
        sending,
        ...(opts.skipFrames ? { skipFrames: opts.skipFrames } : {}),
        ...(opts.onCapturedPcm ? { onCapturedPcm: opts.onCapturedPcm } : {}),
      });
    }
  } catch (e) {
    capture.port.onmessage = playback.port.onmessage = null;
    ports.capture.close();
    ports.playback.close();
    throw e;
  }
  if (ctx.state === "closed") {
    pipeline.stop();
    throw new Error("the prepared AudioContext was closed");
  }
  source.connect(capture);
  // The capture node outputs silence; connecting it keeps it in the rendering graph everywhere.
  capture.connect(ctx.destination);
  playback.connect(ctx.destination);
  const route = new OutputRoute(ctx, (gain) => playback.port.postMessage({ type: "gain", value: gain }), opts.mode ?? "private", opts.volume ?? 1);

  // iOS suspends ("interrupted") the context for a phone call or Siri, and some browsers when the
  // page was hidden; resume when the user comes back, or the call stays silent.
  const onVisible = () => {
    if (document.visibilityState === "visible" && ctx.state !== "running" && ctx.state !== "closed") void ctx.resume().catch(() => {});
  };
  document.addEventListener("visibilitychange", onVisible);

  return {
    receive(seq, payload) {
      if (!stopped) local?.receive(seq, payload);
    },
    setMuted(m) {
      muted = m;
      pipeline.setMuted(m);
    },
    setMode(m) {
      route.setMode(m);
    },
    setVolume(v) {
      route.setVolume(v);
    },
    setSending(on) {
      pipeline.setSending(on);
    },
    micLevel() {
      return muted ? 0 : rmsToMeter(level);
    },
    stats() {
      const r = recent;
      return {
        lossPercent: r.lossPercent,
        jitterMs: r.jitterMs,
        targetDelayMs: jitterStats.targetDelayMs,
        concealed: r.concealed,
        late: r.late,
        windowMs: r.windowMs,
        quality: callQuality(r.lossPercent, r.jitterMs),
      };
    },
    detailedStats() {
      const { sentFrames, sentBytes, staleDropped } = pipeline.stats();
      return { ...jitterStats, recent, codec: opts.codec, codecPath: label, sampleRate: ctx.sampleRate, sentFrames, sentBytes, staleDropped };
    },
    details() {
      const p = pipeline.stats();
      const now = performance.now();
      if (now - rate.atMs >= 1000) {
        const kbps = ((p.sentBytes - rate.bytes) * 8) / (now - rate.atMs);
        rate.kbps = rate.kbps ? rate.kbps + (kbps - rate.kbps) / 4 : kbps;
        rate.atMs = now;
        rate.bytes = p.sentBytes;
      }
      return {
        codec: opts.codec,
        codecPath: label,
        sendKbps: rate.kbps,
        jitterMs: recent.jitterMs,
        targetDelayMs: jitterStats.targetDelayMs,
        playoutDelayMs: jitterStats.playoutDelayMs,
        stallCoverMs: jitterStats.stallCoverMs,
        outputLatencyMs: ((ctx.baseLatency || 0) + ((ctx as { outputLatency?: number }).outputLatency || 0)) * 1000,
        outputUnderruns: (ctx as { playbackStats?: { underrunEvents?: number } }).playbackStats?.underrunEvents ?? null,
        lossPercent: recent.lossPercent,
        concealedPercent: (100 * recent.concealed) / Math.max(recent.slots, 50),
        stalls: jitterStats.stalls,
        catchUpDropped: jitterStats.skipped,
        staleDropped: p.staleDropped,
        codecRestarts: p.codecRestarts,
      };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      document.removeEventListener("visibilitychange", onVisible);
      capture.port.onmessage = null;
      playback.port.onmessage = null;
      source.disconnect();
      capture.disconnect();
      playback.disconnect();
      if (ownStream) stream.getTracks().forEach((t) => t.stop());
      pipeline.stop();
      await ctx.close().catch(() => {});
    },
  };
}
