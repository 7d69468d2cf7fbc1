// Microphone → exact 20 ms frames of 960 samples at 48 kHz, plus the RMS for the meter.
// Runs on the audio rendering thread: no allocation beyond one frame per 20 ms.
// Message in (node port): { type: "media", port } — where the frames go (frame-pipeline.ts, in
// the link worker during a call): captured audio never waits for the page's main thread.
// Messages out: on the media port { frame: Float32Array(960), at: number } — the frame's buffer is
// transferred; `at` is Date.now() when its last sample reached the graph (wall clock, ms: the one
// clock shared by every process on a machine, which is what a latency measurement between two
// browser processes needs; a worklet has no performance.now()). On the node port { rms } every
// 100 ms, for the meter. Frames before a media port is given are not kept.
import { FRAME_SAMPLES, SAMPLE_RATE } from "../codec.ts";
import { StreamResampler } from "../resampler.ts";
import { scope } from "./worklet-scope.ts";

/** The meter's level: the loudest frame of every 5 (100 ms). */
const LEVEL_EVERY_FRAMES = 5;

class CaptureProcessor extends scope.AudioWorkletProcessor {
  private frame = new Float32Array(FRAME_SAMPLES);
  private fill = 0;
  private readonly resampler = scope.sampleRate !== SAMPLE_RATE ? new StreamResampler(scope.sampleRate, SAMPLE_RATE) : null;
  private mono = new Float32Array(128);
  private media: MessagePort | null = null;
  private frames = 0;
  private level = 0;

  constructor(options?: unknown) {
    super(options);
    this.port.onmessage = (e: MessageEvent<{ type?: string; port?: MessagePort }>) => {
      if (e.data.type === "media" && e.data.port) this.media = e.data.port;
    };
  }

  process(inputs: Float32Array[][]): boolean {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    let samples = channels[0]!;
    if (channels.length > 1) {
      if (this.mono.length !== samples.length) this.mono = new Float32Array(samples.length);
      for (let i = 0; i < samples.length; i++) {
        let sum = 0;
        for (const ch of channels) sum += ch[i]!;
        this.mono[i] = sum / channels.length;
      }
      samples = this.mono;
    }
    if (this.resampler) samples = this.resampler.process(samples);
    for (let i = 0; i < samples.length; i++) {
      this.frame[this.fill++] = samples[i]!;
      if (this.fill === FRAME_SAMPLES) this.flush();
    }
    return true;
  }

  private flush(): void {
    let energy = 0;
    for (let i = 0; i < FRAME_SAMPLES; i++) energy += this.frame[i]! * this.frame[i]!;
    this.level = Math.max(this.level, Math.sqrt(energy / FRAME_SAMPLES));
    if (++this.frames % LEVEL_EVERY_FRAMES === 0) {
      this.port.postMessage({ rms: this.level });
      this.level = 0;
    }
    this.fill = 0;
    if (!this.media) return;
    this.media.postMessage({ frame: this.frame, at: Date.now() }, [this.frame.buffer]);
    this.frame = new Float32Array(FRAME_SAMPLES);
  }
}

scope.registerProcessor("voicesrv-capture", CaptureProcessor);
