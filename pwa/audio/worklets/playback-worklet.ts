// Plays 20 ms frames handed over by the main thread, paced by the audio clock.
//
// Pull model: the worklet asks for one frame ({type:"pull"}) each time it starts playing one, and
// two up front, so two frames (40 ms) sit between the jitter buffer and the speaker — enough to
// ride out main-thread hiccups on phones. The jitter buffer is thus clocked by the sound card,
// and sender/receiver clock drift shows up as buffer depth the jitter buffer corrects.
//
// Messages in:  {type:"pcm", pcm, skipped?} | {type:"conceal"} | {type:"silence"} |
//               {type:"gain", value} | {type:"tap", on}
// Messages out: {type:"pull"} | {type:"played", pcm, underrun} (only while the tap is on) |
//               {type:"stats", underruns, dropped} (answer to {type:"stats"})
import { FRAME_SAMPLES, SAMPLE_RATE } from "../codec.ts";
import { Concealer } from "../concealer.ts";
import { StreamResampler } from "../resampler.ts";
import { scope } from "./worklet-scope.ts";

type Item = { type: "pcm"; pcm: Float32Array; skipped?: number } | { type: "conceal" } | { type: "silence" };

const PREFILL_FRAMES = 2;
/** More queued than this means the main thread delivered a backlog at once: drop the oldest. */
const MAX_QUEUE = 4;
/** Per-sample smoothing of volume changes (~10 ms) so a slider never crackles. */
const GAIN_SMOOTHING = 1 / 480;

class PlaybackProcessor extends scope.AudioWorkletProcessor {
  private readonly queue: Item[] = [];
  private readonly concealer = new Concealer();
  private readonly resampler = scope.sampleRate !== SAMPLE_RATE ? new StreamResampler(SAMPLE_RATE, scope.sampleRate) : null;
  private fifo = new Float32Array(4 * FRAME_SAMPLES);
  private readPos = 0;
  private writePos = 0;
  private gain = 0;
  private targetGain = 1;
  private tap = false;
  private lastSilent = true;
  private underruns = 0;
  private dropped = 0;

  constructor(options: { processorOptions?: Record<string, unknown> }) {
    super(options);
    this.tap = options.processorOptions?.tap === true;
    if (typeof options.processorOptions?.gain === "number") this.targetGain = options.processorOptions.gain;
    this.port.onmessage = (e: MessageEvent) => this.onMessage(e.data);
    for (let i = 0; i < PREFILL_FRAMES; i++) this.port.postMessage({ type: "pull" });
  }

  private onMessage(msg: { type: string; [k: string]: unknown }): void {
    switch (msg.type) {
      case "pcm":
      case "conceal":
      case "silence":
        this.queue.push(msg as Item);
        while (this.queue.length > MAX_QUEUE) {
          this.queue.shift();
          this.dropped++;
          const next = this.queue[0];
          if (next?.type === "pcm") next.skipped = (next.skipped ?? 0) + 1;
        }
        break;
      case "gain":
        this.targetGain = Math.max(0, Number(msg.value) || 0);
        break;
      case "tap":
        this.tap = msg.on === true;
        break;
      case "stats":
        this.port.postMessage({ type: "stats", underruns: this.underruns, dropped: this.dropped });
        break;
    }
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
    const item = this.queue.shift();
    let frame: Float32Array;
    if (item) {
      this.port.postMessage({ type: "pull" });
      if (item.type === "pcm") frame = this.concealer.good(item.pcm, (item.skipped ?? 0) > 0);
      else if (item.type === "conceal") frame = this.concealer.lost();
      else frame = this.concealer.silence();
      this.lastSilent = item.type === "silence";
    } else {
      // The main thread is late. Mid-speech that is a loss; during silence it is more silence.
      this.underruns++;
      frame = this.lastSilent ? this.concealer.silence() : this.concealer.lost();
    }
    if (this.tap) {
      const copy = frame.slice();
      this.port.postMessage({ type: "played", pcm: copy, underrun: !item }, [copy.buffer]);
    }
    this.append(this.resampler ? this.resampler.process(frame) : frame);
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
