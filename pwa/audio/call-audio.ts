// The call's audio pipeline, as the UI uses it:
//   mic → capture worklet (20 ms @ 48 kHz) → encoder → sendPayload   (to e2ee)
//   receive(seq, payload) (from e2ee) → decoder → playback worklet [jitter buffer → concealer] → speaker
// Frames are decoded as they arrive and the jitter buffer runs in the playback worklet, popped
// each time a frame starts to play (see playback-worklet.ts for why). Captured frames that
// reach the main thread more than STALE_CAPTURE_MS late (a frozen tab, a long GC) are dropped
// instead of sent: the peer would only have to drop them again, after they had queued up
// behind everything else on the way.
//
// iOS only lets an AudioContext start (and play) when it is created or resumed inside a user
// gesture, but the codec — and so startCallAudio — is only known after the key exchange, long after
// the tap. prepareCallAudio() therefore does everything that needs the gesture at the tap and
// hands the unlocked context to startCallAudio later.
import { FRAME_SAMPLES, type CodecName, type FrameDecoder, type FrameEncoder } from "./codec.ts";
import { codecPair, type CodecPair } from "./codec-select.ts";
import { DecodeOrder } from "./decode-order.ts";
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

export interface CallAudioOptions {
  codec: CodecName;
  /** From prepareCallAudio() in the user's tap. Without it a new context is created here, which
   *  only works if this call itself runs inside a gesture (or on browsers without that rule). */
  prepared?: PreparedCallAudio;
  sendPayload: (payload: Uint8Array) => void;
  /** Captured frames were dropped before encoding (stale after a stall): the sequence number
   *  should skip them, so the receiver's timeline stays true. */
  skipFrames?: (n: number) => void;
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

/** Captured audio older than this when the main thread gets it is not sent. */
const STALE_CAPTURE_MS = 300;

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
  /** AudioContext base + output latency: the device's share, outside our control. */
  outputLatencyMs: number;
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

function createContext(): AudioContext {
  try {
    return new AudioContext({ sampleRate: 48_000, latencyHint: "interactive" });
  } catch {
    return new AudioContext({ latencyHint: "interactive" });
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
      ctx = new AudioContext({ latencyHint: "interactive" });
      await ctx.resume().catch(() => {});
      await loadWorklets(ctx, workletBase);
      source = ctx.createMediaStreamSource(stream);
    }
    // Loads the WebAssembly Opus module here if this browser needs it (already cached by then:
    // supportedCodecs() loaded it to offer "opus").
    const codecs = await codecPair(opts.codec);
    if (ctx.state === "closed") throw new Error("the prepared AudioContext was closed");
    return wire(ctx, source, stream, ownStream, opts, codecs);
  } catch (e) {
    if (ownStream) stream?.getTracks().forEach((t) => t.stop());
    await ctx.close().catch(() => {});
    throw e;
  }
}

function wire(
  ctx: AudioContext,
  source: MediaStreamAudioSourceNode,
  stream: MediaStream,
  ownStream: boolean,
  opts: CallAudioOptions,
  codecs: CodecPair,
): CallAudio {
  let muted = false;
  let sending = opts.sending ?? true;
  let level = 0;
  let sentFrames = 0;
  let sentBytes = 0;
  let stopped = false;

  // The fate of every captured frame handed to the sending side, oldest first: true = in the
  // encoder, its payload still to come; false = dropped (stale, or the encoder was backed up).
  // A dropped frame must use up its seq exactly where it was in capture order, or the frames
  // around it would look early or late to the receiver (seq is its only clock for us); the
  // encoder answers asynchronously, so drops wait here behind the frames still being encoded.
  const fates: boolean[] = [];
  const skipDropped = () => {
    let n = 0;
    while (fates[0] === false) {
      fates.shift();
      n++;
    }
    if (n && !stopped) opts.skipFrames?.(n);
  };
  const send = (payload: Uint8Array) => {
    if (stopped) return;
    skipDropped();
    fates.shift();
    sentFrames++;
    sentBytes += payload.byteLength;
    opts.sendPayload(payload);
    skipDropped();
  };
  const dropped = () => {
    fates.push(false);
    skipDropped();
  };
  let staleDropped = 0;
  // Filled by the playback worklet every 100 ms.
  let jitterStats: JitterBufferStats = {
    received: 0, played: 0, concealed: 0, late: 0, duplicate: 0, skipped: 0, underruns: 0, slots: 0, lost: 0,
    lossPercent: 0, jitterMs: 0, targetDelayMs: 0, playoutDelayMs: 0, bufferedMs: 0, stalls: 0,
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
  capture.port.onmessage = (e: MessageEvent<{ frame: Float32Array; rms: number; at: number }>) => {
    level = e.data.rms;
    // Muted = no frames at all: the peer's jitter buffer treats the gap like DTX silence.
    if (sending && !muted && !stopped) {
      if (Date.now() - e.data.at > STALE_CAPTURE_MS) {
        staleDropped++;
        return dropped();
      }
      opts.onCapturedPcm?.(e.data.frame.slice(), e.data.at);
      // An encoder that lost its queue (error, reopen) never answers for it: don't wait forever.
      if (fates.length > 50) fates.splice(0, fates.length - 50);
      fates.push(true);
      if (!encoder.encode(e.data.frame)) {
        fates.pop();
        dropped();
      }
    }
  };
  source.connect(capture);
  // The capture node outputs silence; connecting it keeps it in the rendering graph everywhere.
  capture.connect(ctx.destination);

  const playback = new AudioWorkletNode(ctx, "voicesrv-playback", {
    numberOfInputs: 0,
    numberOfOutputs: 1,
    outputChannelCount: [1],
    processorOptions: { tap: !!opts.onDecodedPcm, gain: 0 },
  });
  playback.connect(ctx.destination);
  // The codecs come last: if a node above could not be made, no encoder or decoder (nor a WASM
  // worker's death listener) is left behind by a call that never started.
  // A WASM worker that died took the frames it was encoding with it: they are drops now.
  const lost = () => {
    for (let i = 0; i < fates.length; i++) fates[i] = false;
    skipDropped();
  };
  const encoder: FrameEncoder = codecs.encoder(send, lost);
  const decoder: FrameDecoder = codecs.decoder();
  const route = new OutputRoute(ctx, (gain) => playback.port.postMessage({ type: "gain", value: gain }), opts.mode ?? "private", opts.volume ?? 1);

  // Decoding may be asynchronous (WebCodecs); frames must still reach the worklet in order.
  let chain: Promise<void> = Promise.resolve();
  const decodeNow = (seq: number, payload: Uint8Array) => {
    const pending = decoder.decode(payload);
    chain = chain
      .then(() => pending)
      .then((pcm) => {
        if (!stopped) playback.port.postMessage({ type: "frame", seq, pcm }, [pcm.buffer as ArrayBuffer]);
      })
      .catch(() => {});
  };
  // A frame held behind a gap is announced to the jitter buffer at once; the buffer says when it
  // has given the gap up (it conceals the missing slot on schedule), and the held frames go on.
  const order = new DecodeOrder<Uint8Array>(decodeNow, 60, (seq) => {
    if (!stopped) playback.port.postMessage({ type: "arrived", seq });
  });
  let expiry: ReturnType<typeof setTimeout> | null = null;
  const expire = () => {
    expiry = null;
    const wait = order.expire(performance.now());
    if (wait !== null && !stopped) expiry = setTimeout(expire, wait);
  };
  const deliver = (seq: number, payload: Uint8Array) => {
    order.push(seq, payload, performance.now());
    if (!expiry) expire();
  };
  playback.port.onmessage = (e: MessageEvent<{ type: string; pcm?: Float32Array; at?: number; seq?: number; jitter?: JitterBufferStats; recent?: RecentStats }>) => {
    if (e.data.type === "missed" && typeof e.data.seq === "number") order.giveUpThrough(e.data.seq);
    else if (e.data.type === "stats" && e.data.jitter && e.data.recent) {
      jitterStats = e.data.jitter;
      recent = e.data.recent;
    } else if (e.data.type === "played" && e.data.pcm?.length === FRAME_SAMPLES) opts.onDecodedPcm?.(e.data.pcm, e.data.at ?? Date.now());
  };

  // iOS suspends ("interrupted") the context for a phone call or Siri, and some browsers when the
  // page was hidden; resume when the user comes back, or the call stays silent.
  const onVisible = () => {
    if (document.visibilityState === "visible" && ctx.state !== "running" && ctx.state !== "closed") void ctx.resume().catch(() => {});
  };
  document.addEventListener("visibilitychange", onVisible);

  return {
    receive(seq, payload) {
      if (!stopped) deliver(seq, payload);
    },
    setMuted(m) {
      muted = m;
    },
    setMode(m) {
      route.setMode(m);
    },
    setVolume(v) {
      route.setVolume(v);
    },
    setSending(on) {
      sending = on;
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
      return { ...jitterStats, recent, codec: opts.codec, codecPath: codecs.label, sampleRate: ctx.sampleRate, sentFrames, sentBytes, staleDropped };
    },
    details() {
      const now = performance.now();
      if (now - rate.atMs >= 1000) {
        const kbps = ((sentBytes - rate.bytes) * 8) / (now - rate.atMs);
        rate.kbps = rate.kbps ? rate.kbps + (kbps - rate.kbps) / 4 : kbps;
        rate.atMs = now;
        rate.bytes = sentBytes;
      }
      return {
        codec: opts.codec,
        codecPath: codecs.label,
        sendKbps: rate.kbps,
        jitterMs: recent.jitterMs,
        targetDelayMs: jitterStats.targetDelayMs,
        playoutDelayMs: jitterStats.playoutDelayMs,
        outputLatencyMs: ((ctx.baseLatency || 0) + ((ctx as { outputLatency?: number }).outputLatency || 0)) * 1000,
        lossPercent: recent.lossPercent,
        concealedPercent: (100 * recent.concealed) / Math.max(recent.slots, 50),
        stalls: jitterStats.stalls,
        catchUpDropped: jitterStats.skipped,
        staleDropped,
        codecRestarts: codecs.revivals?.() ?? 0,
      };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      document.removeEventListener("visibilitychange", onVisible);
      if (expiry) clearTimeout(expiry);
      capture.port.onmessage = null;
      playback.port.onmessage = null;
      source.disconnect();
      capture.disconnect();
      playback.disconnect();
      if (ownStream) stream.getTracks().forEach((t) => t.stop());
      encoder.close();
      decoder.close();
      await ctx.close().catch(() => {});
    },
  };
}
