// Browser side of test/browser/audio-pipeline.test.ts: the real call pipeline in loopback,
// through a lossy, jittery "network", with the played PCM captured for correlation.
import { startCallAudio, supportedCodecs, type CodecName } from "../../../pwa/audio/call-audio.ts";

export interface PipelineRun {
  codec: CodecName;
  durationMs: number;
  dropRate: number;
  maxJitterMs: number;
  seed: number;
}

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function toBase64Int16(frames: Float32Array[]): string {
  const total = frames.reduce((n, f) => n + f.length, 0);
  const pcm = new Int16Array(total);
  let o = 0;
  for (const f of frames) for (let i = 0; i < f.length; i++) pcm[o++] = Math.max(-32768, Math.min(32767, Math.round(f[i]! * 32767)));
  const bytes = new Uint8Array(pcm.buffer);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

async function runPipeline(run: PipelineRun) {
  const rnd = prng(run.seed);
  const played: Float32Array[] = [];
  const captured: Float32Array[] = [];
  const sizes: number[] = [];
  const pending: [number, Uint8Array][] = [];
  let seq = 0;
  let dropped = 0;
  let audio: Awaited<ReturnType<typeof startCallAudio>> | null = null;
  const deliver = (s: number, p: Uint8Array) => (audio ? audio.receive(s, p) : pending.push([s, p]));

  audio = await startCallAudio({
    codec: run.codec,
    mode: "speaker",
    volume: 1,
    onDecodedPcm: (pcm) => played.push(pcm),
    onCapturedPcm: (pcm) => captured.push(pcm),
    sendPayload: (payload) => {
      const s = seq++;
      sizes.push(payload.byteLength);
      if (rnd() < run.dropRate) {
        dropped++;
        return;
      }
      // Copy: the sender may reuse its buffer, as a real transport would have serialised it.
      const copy = payload.slice();
      setTimeout(() => deliver(s, copy), rnd() * run.maxJitterMs);
    },
  });
  for (const [s, p] of pending.splice(0)) audio.receive(s, p);
  const levels: number[] = [];
  const started = performance.now();
  while (performance.now() - started < run.durationMs) {
    await new Promise((r) => setTimeout(r, 100));
    levels.push(audio.micLevel());
  }
  const stats = audio.detailedStats();
  const simple = audio.stats();
  await audio.stop();
  return { pcm: toBase64Int16(played), captured: toBase64Int16(captured), sizes, dropped, sent: seq, stats, simple, levels };
}

/** Sending gated by the UI (before key confirmation) and by mute; the receiver sees the gaps. */
async function runGating(codec: CodecName) {
  let sent = 0;
  let seq = 0;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  let audio: Awaited<ReturnType<typeof startCallAudio>> | null = null;
  audio = await startCallAudio({
    codec,
    sending: false,
    sendPayload: (p) => {
      sent++;
      const s = seq++;
      const copy = p.slice();
      setTimeout(() => audio?.receive(s, copy), 5);
    },
  });
  const phase = async (ms: number) => {
    await sleep(60); // let frames already in the encoder drain
    const before = sent;
    await sleep(ms);
    return sent - before;
  };
  const beforeConfirm = await phase(600);
  audio.setSending(true);
  const afterConfirm = await phase(600);
  const beforeMute = audio.detailedStats();
  audio.setMuted(true);
  const levelMuted = audio.micLevel();
  const whileMuted = await phase(1000);
  audio.setMuted(false);
  const afterUnmute = await phase(600);
  const stats = audio.detailedStats();
  await audio.stop();
  return { beforeConfirm, afterConfirm, whileMuted, afterUnmute, levelMuted, beforeMute, stats };
}

Object.assign(globalThis, { runPipeline, runGating, supportedCodecs });
(globalThis as { pipelineReady?: boolean }).pipelineReady = true;
