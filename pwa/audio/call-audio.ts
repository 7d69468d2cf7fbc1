// The call's audio pipeline, as the UI uses it:
//   mic → capture worklet (20 ms @ 48 kHz) → encoder → sendPayload   (to e2ee)
//   receive(seq, payload) (from e2ee) → jitter buffer → decoder → playback worklet → speaker
// The playback worklet pulls one frame per 20 ms of audio clock; each pull pops the jitter buffer.
import { FRAME_SAMPLES, type CodecName, type FrameDecoder, type FrameEncoder } from "./codec.ts";
import { JitterBuffer, type JitterBufferStats } from "./jitter-buffer.ts";
import { rmsToMeter } from "./meter.ts";
import { openMic } from "./mic.ts";
import { OpusDecoder, OpusEncoder } from "./opus-codec.ts";
import { configureAudioSession, OutputRoute, type OutputMode } from "./output-route.ts";
import { PcmuDecoder, PcmuEncoder } from "./pcmu-codec.ts";
import { callQuality, type Quality } from "./quality.ts";

export type { CodecName } from "./codec.ts";
export { chooseCodec, supportedCodecs } from "./negotiate.ts";
export { CallWakeLock, type WakeLockState } from "./wake-lock.ts";

export interface CallAudioOptions {
  codec: CodecName;
  sendPayload: (payload: Uint8Array) => void;
  mode?: OutputMode;
  volume?: number /* 0..1 */;
  /** A stream the caller already opened; then stop() leaves its tracks running. */
  micStream?: MediaStream;
  /** URL prefix where the worklet files are served, default "/audio/". */
  workletBase?: string;
  /** Whether captured audio is encoded and sent from the start (default true). Pass false when
   *  starting from the Accept tap (iOS needs the gesture) before key confirmation, then
   *  setSending(true) once the peer's confirm verified. */
  sending?: boolean;
  /** Receives every 20 ms frame as it goes to the speaker (48 kHz, after concealment, before
   *  volume). For tests and diagnostics; costs one message per frame. */
  onDecodedPcm?: (pcm: Float32Array) => void;
  /** Receives every captured 20 ms frame (48 kHz) that is handed to the encoder. Tests only. */
  onCapturedPcm?: (pcm: Float32Array) => void;
}

export interface CallAudioStats {
  lossPercent: number;
  jitterMs: number;
  targetDelayMs: number;
  concealed: number;
  late: number;
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
  /** Everything the jitter buffer counts, plus the codec and the AudioContext's rate. */
  detailedStats(): JitterBufferStats & { codec: CodecName; sampleRate: number; sentFrames: number; sentBytes: number };
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

/** Must be called from (or right after) a user gesture: iOS only starts audio from one. */
export async function startCallAudio(opts: CallAudioOptions): Promise<CallAudio> {
  configureAudioSession();
  let ctx = createContext();
  // Resume synchronously inside the gesture; awaiting anything first would lose it on iOS.
  const resumed = ctx.resume().catch(() => {});
  const ownStream = !opts.micStream;
  const workletBase = opts.workletBase ?? "/audio/";
  let stream: MediaStream | undefined;
  try {
    stream = opts.micStream ?? (await openMic());
    await resumed;
    await loadWorklets(ctx, workletBase);
    let source: MediaStreamAudioSourceNode;
    try {
      source = ctx.createMediaStreamSource(stream);
    } catch {
      // Firefox cannot connect a microphone to a context at another rate: use the device's rate
      // and let the worklets resample.
      await ctx.close();
      ctx = new AudioContext({ latencyHint: "interactive" });
      await ctx.resume().catch(() => {});
      await loadWorklets(ctx, workletBase);
      source = ctx.createMediaStreamSource(stream);
    }
    return wire(ctx, source, stream, ownStream, opts);
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
): CallAudio {
  let muted = false;
  let sending = opts.sending ?? true;
  let level = 0;
  let sentFrames = 0;
  let sentBytes = 0;
  let stopped = false;

  const send = (payload: Uint8Array) => {
    if (stopped) return;
    sentFrames++;
    sentBytes += payload.byteLength;
    opts.sendPayload(payload);
  };
  const encoder: FrameEncoder = opts.codec === "opus" ? new OpusEncoder(send) : new PcmuEncoder(send);
  const decoder: FrameDecoder = opts.codec === "opus" ? new OpusDecoder() : new PcmuDecoder();
  const jitter = new JitterBuffer();

  const capture = new AudioWorkletNode(ctx, "voicesrv-capture", {
    numberOfInputs: 1,
    numberOfOutputs: 1,
    outputChannelCount: [1],
    channelCount: 1,
    channelCountMode: "explicit",
    channelInterpretation: "speakers",
  });
  capture.port.onmessage = (e: MessageEvent<{ frame: Float32Array; rms: number }>) => {
    level = e.data.rms;
    // Muted = no frames at all: the peer's jitter buffer treats the gap like DTX silence.
    if (sending && !muted && !stopped) {
      opts.onCapturedPcm?.(e.data.frame.slice());
      encoder.encode(e.data.frame);
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
  const route = new OutputRoute(ctx, (gain) => playback.port.postMessage({ type: "gain", value: gain }), opts.mode ?? "private", opts.volume ?? 1);

  // Decoding may be asynchronous (WebCodecs); answers to pulls must still reach the worklet in order.
  let chain: Promise<void> = Promise.resolve();
  const answerPull = () => {
    const item = jitter.pop(performance.now());
    const pending: Promise<unknown> =
      item.kind === "frame" ? decoder.decode(item.payload).then((pcm) => ({ type: "pcm", pcm, skipped: item.skipped })) : Promise.resolve({ type: item.kind });
    chain = chain
      .then(() => pending)
      .then((msg) => {
        if (stopped) return;
        const m = msg as { pcm?: Float32Array };
        playback.port.postMessage(msg, m.pcm ? [m.pcm.buffer as ArrayBuffer] : []);
      })
      .catch(() => {});
  };
  playback.port.onmessage = (e: MessageEvent<{ type: string; pcm?: Float32Array }>) => {
    if (e.data.type === "pull") answerPull();
    else if (e.data.type === "played" && e.data.pcm?.length === FRAME_SAMPLES) opts.onDecodedPcm?.(e.data.pcm);
  };

  // iOS suspends ("interrupted") the context for a phone call or Siri, and some browsers when the
  // page was hidden; resume when the user comes back, or the call stays silent.
  const onVisible = () => {
    if (document.visibilityState === "visible" && ctx.state !== "running" && ctx.state !== "closed") void ctx.resume().catch(() => {});
  };
  document.addEventListener("visibilitychange", onVisible);

  return {
    receive(seq, payload) {
      if (!stopped) jitter.push(seq, payload, performance.now());
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
      const s = jitter.stats();
      return {
        lossPercent: s.lossPercent,
        jitterMs: s.jitterMs,
        targetDelayMs: s.targetDelayMs,
        concealed: s.concealed,
        late: s.late,
        quality: callQuality(s.lossPercent, s.jitterMs),
      };
    },
    detailedStats() {
      return { ...jitter.stats(), codec: opts.codec, sampleRate: ctx.sampleRate, sentFrames, sentBytes };
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
      encoder.close();
      decoder.close();
      await ctx.close().catch(() => {});
    },
  };
}
