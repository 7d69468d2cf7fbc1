// Browser side of test/browser/audio-pipeline.test.ts: the real call pipeline in loopback,
// through a lossy, jittery "network", with the played PCM captured for correlation.
import { startCallAudio, supportedCodecs, type CodecName } from "../../../pwa/audio/call-audio.ts";
import { prng } from "../../helpers/prng.ts";
import { toBase64Int16 } from "./pcm-transfer.ts";

export interface PipelineRun {
  codec: CodecName;
  durationMs: number;
  dropRate: number;
  maxJitterMs: number;
  seed: number;
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
