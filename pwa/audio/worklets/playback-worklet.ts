// Plays 20 ms frames, paced by the audio clock, through the call's jitter buffer.
//
// The jitter buffer lives HERE, on the rendering thread, and the main thread decodes each frame
// as it arrives and posts the PCM. The buffer is therefore popped at the exact moment a frame
// starts to play, and a busy main thread (a phone's UI, GC, a slow WebCodecs callback) is just
// more arrival jitter, which the buffer measures and covers — instead of a fixed queue of
// decoded frames between buffer and speaker that every call pays for (it used to be 2 frames,
// 40 ms, on top of the target). Sender/receiver clock drift shows up as lateness the buffer trims.
//
// Two ports: the node's own (the page) and a media port (frame-pipeline.ts, which runs in the
// link worker during a call, so decoded frames reach this thread without waiting for the page's).
// Media port in:   {type:"frame", seq, pcm} | {type:"arrived", seq} (a frame held back to be
//                  decoded in order; its pcm follows)
// Media port out:  {type:"missed", seq} when the playout passed slots up to seq without their
//                  frame (the decoding side stops holding frames back for them)
// Node port in:    {type:"media", port} | {type:"gain", value} | {type:"tap", on} | {type:"stats"}
// Node port out:   {type:"played", pcm, underrun, at} (only while the tap is on; `at` = Date.now()
//                  when the frame's first sample leaves this node) |
//                  {type:"stats", jitter, recent, underruns} every 100 ms and in answer to {type:"stats"}
import { FRAME_SAMPLES, SAMPLE_RATE } from "../codec.ts";
import { Concealer } from "../concealer.ts";
import { JitterBuffer } from "../jitter-buffer.ts";
import { StreamResampler } from "../resampler.ts";
import { scope } from "./worklet-scope.ts";

/** Per-sample smoothing of volume changes (~10 ms) so a slider never crackles. */
const GAIN_SMOOTHING = 1 / 480;
const STATS_EVERY_FRAMES = 5; // 100 ms: fresh enough for a test snapshot, cheap (two small objects)
/** Below this RMS (−48 dBFS) a frame is a pause, where the jitter buffer may drop it or wait
 *  before it (after the sender's noise suppression a pause is far below; quiet speech is above). */
const QUIET_RMS = 0.004;

function isQuiet(pcm: Float32Array): boolean {
  let e = 0;
  for (let i = 0; i < pcm.length; i++) e += pcm[i]! * pcm[i]!;
  return Math.sqrt(e / Math.max(1, pcm.length)) < QUIET_RMS;
}

class PlaybackProcessor extends scope.AudioWorkletProcessor {
  private readonly jitter = new JitterBuffer<Float32Array>();
  private readonly concealer = new Concealer();
  private readonly resampler = scope.sampleRate !== SAMPLE_RATE ? new StreamResampler(SAMPLE_RATE, scope.sampleRate) : null;
  private fifo = new Float32Array(4 * FRAME_SAMPLES);
  private readPos = 0;
  private writePos = 0;
  private gain = 0;
  private targetGain = 1;
  private tap = false;
  private underruns = 0;
  private frames = 0;
  private missedReported: number | null = null;
  private media: MessagePort | null = null;

  constructor(options: { processorOptions?: Record<string, unknown> }) {
    super(options);
    this.tap = options.processorOptions?.tap === true;
    if (typeof options.processorOptions?.gain === "number") this.targetGain = options.processorOptions.gain;
    this.port.onmessage = (e: MessageEvent) => this.onMessage(e.data);
  }

  /** Audio-clock milliseconds at which the next sample written to the FIFO will play. */
  private playoutNowMs(): number {
    return (scope.currentTime + (this.writePos - this.readPos) / scope.sampleRate) * 1000;
  }

  private onMessage(msg: { type: string; [k: string]: unknown }): void {
    switch (msg.type) {
      case "media":
        if (msg.port && typeof (msg.port as MessagePort).postMessage === "function") {
          this.media = msg.port as MessagePort;
          this.media.onmessage = (e: MessageEvent) => this.onMessage(e.data);
        }
        break;
      case "frame":
        if (msg.pcm instanceof Float32Array && typeof msg.seq === "number") this.jitter.push(msg.seq, msg.pcm, scope.currentTime * 1000, isQuiet(msg.pcm));
        break;
      case "arrived":
        if (typeof msg.seq === "number") this.jitter.announce(msg.seq, scope.currentTime * 1000);
        break;
      case "gain":
        this.targetGain = Math.max(0, Number(msg.value) || 0);
        break;
      case "tap":
        this.tap = msg.on === true;
        break;
      case "stats":
        this.postStats();
        break;
    }
  }

  private postStats(): void {
    this.port.postMessage({ type: "stats", jitter: this.jitter.stats(), recent: this.jitter.recent(this.playoutNowMs()), underruns: this.underruns });
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const out = outputs[0];
    if (!out || out.length === 0) return true;
    const n = out[0]!.length;
    while (this.writePos - this.readPos < n) this.renderNextFrame();
    const first = out[0]!;
    let g = this.gain;
    const target = this.targetGain;
    for (let i = 0; i < n; i++) {
      g += (target - g) * GAIN_SMOOTHING;
      first[i] = this.fifo[this.readPos + i]! * g;
    }
    this.gain = g;
    this.readPos += n;
    for (let c = 1; c < out.length; c++) out[c]!.set(first);
    return true;
  }

  private renderNextFrame(): void {
    const item = this.jitter.pop(this.playoutNowMs());
    const missed = this.jitter.missedThrough();
    if (missed !== this.missedReported) {
      this.missedReported = missed;
      if (missed !== null) this.media?.postMessage({ type: "missed", seq: missed });
    }
    let frame: Float32Array;
    if (item.kind === "frame") frame = this.concealer.good(item.payload, (item.skipped ?? 0) > 0);
    else if (item.kind === "conceal") frame = this.concealer.lost();
    else frame = this.concealer.silence();
    if (item.kind === "conceal") this.underruns++;
    if (this.tap) {
      const copy = frame.slice();
      // What is still in the FIFO goes out first, from the start of the current render quantum.
      const at = Date.now() + ((this.writePos - this.readPos) * 1000) / scope.sampleRate;
      this.port.postMessage({ type: "played", pcm: copy, underrun: item.kind === "conceal", at }, [copy.buffer]);
    }
    this.append(this.resampler ? this.resampler.process(frame) : frame);
    if (++this.frames % STATS_EVERY_FRAMES === 0) this.postStats();
  }

  private append(samples: Float32Array): void {
    if (this.readPos > 0) {
      this.fifo.copyWithin(0, this.readPos, this.writePos);
      this.writePos -= this.readPos;
      this.readPos = 0;
    }
    if (this.writePos + samples.length > this.fifo.length) {
      const bigger = new Float32Array((this.writePos + samples.length) * 2);
      bigger.set(this.fifo.subarray(0, this.writePos));
      this.fifo = bigger;
    }
    this.fifo.set(samples, this.writePos);
    this.writePos += samples.length;
  }
}

scope.registerProcessor("voicesrv-playback", PlaybackProcessor);
