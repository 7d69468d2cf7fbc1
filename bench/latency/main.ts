#!/usr/bin/env bun
// `npm run bench:latency` — one-way delay of a real call between two headless Chromium
// processes through a real voicesrv server (its own process), measured from outside the app's
// logic: the onset of each 1 kHz burst of the fake microphone as it enters the caller's capture
// worklet → the onset as it leaves the callee's playback worklet, both stamped with the shared
// wall clock. Not a test: it prints figures for BENCHMARKS.md. Needs a built PWA (npm run build:pwa)
// and /usr/bin/chromium.
//
//   bun bench/latency/main.ts [--seconds 60] [--window 5] [--runs 1] [--conditions calm,rtt150,…|all] [--json]
//
// Conditions other than "calm" put an impairment proxy (impairment-proxy.ts) in front of the
// server for BOTH browsers, like two phones on the same kind of poor access network; the
// callee's microphone then plays speech, so the caller's side yields a speech-correlation figure
// while the caller's bursts give the delay. On the lossy links the caller's bursts come 2 s apart
// instead of 500 ms (sparse-bursts.ts): there the jitter buffer covers recurring stalls with up
// to 1 s of delay, which 500 ms bursts could only read modulo 500 ms.
import { resolve } from "node:path";
import { spawnServer } from "../../cli/bench/spawn-server.ts";
import { readWavMono16, rmsEnvelope, segmentedCorrelation, trimLeadingSilence } from "../../test/helpers/browser-app.ts";
import { audioDetails, openCallPair, probeData } from "./call-pair.ts";
import { startImpairmentProxy, type Impairment, type ImpairmentProxy } from "./impairment-proxy.ts";
import { pairOnsets, perWindow, summarize, type WindowStats } from "./onset-delay.ts";
import { cpuSeconds, rendererPids } from "./proc-cpu.ts";
import { writeSparseBursts } from "./sparse-bursts.ts";

const BURSTS = resolve("test/fixtures/bursts-1khz-20ms-every-500ms-48k.wav");
const SPEECH = resolve("test/fixtures/speech-callee-48k.wav");

interface Condition {
  name: string;
  what: string;
  impairment?: Impairment;
  /** A total outage of this long, halfway through the call. */
  outageMs?: number;
  /** The delay may rightly exceed 500 ms (recurring stalls covered): bursts 2 s apart. */
  sparseBursts?: boolean;
}

export const CONDITIONS: readonly Condition[] = [
  { name: "calm", what: "loopback, no proxy" },
  { name: "rtt150", what: "150 ms RTT per access link", impairment: { delayMs: 75 } },
  { name: "jitter40", what: "150 ms RTT + 0–40 ms jitter", impairment: { delayMs: 75, jitterMs: 40 } },
  { name: "loss1", what: "150 ms RTT + 40 ms jitter + 1 % segments lost (RTO 200–1000 ms)", impairment: { delayMs: 75, jitterMs: 40, lossPercent: 1 }, sparseBursts: true },
  { name: "loss3", what: "… + 3 % lost", impairment: { delayMs: 75, jitterMs: 40, lossPercent: 3 }, sparseBursts: true },
  { name: "loss5", what: "… + 5 % lost", impairment: { delayMs: 75, jitterMs: 40, lossPercent: 5 }, sparseBursts: true },
  { name: "outage2s", what: "loopback through the proxy, 2 s outage mid-call", impairment: {}, outageMs: 2000 },
];

export interface DirectionResult {
  direction: string;
  bursts: { captured: number; played: number; paired: number };
  /** 20 ms frames the receiving playback node rendered (audio, concealment or silence). */
  renderedFrames: number;
  overall: { n: number; p50: number; p95: number; max: number };
  windows: WindowStats[];
}

export interface RunResult {
  condition: string;
  seconds: number;
  directions: DirectionResult[];
  /** % of a core, whole call, all renderer processes of each browser. */
  rendererCpu: { caller: number; callee: number };
  /** Caller hearing the callee's speech (impaired conditions only)… */
  speechCorrelation?: number;
  /** …and the same from 10 s into the call on (calls of 20 s or more): on a lossy link the
   *  jitter buffer covers stalls once they recur (pwa/audio/stall-cover.ts), which takes a few. */
  speechCorrelationFrom10s?: number;
  /** The receiving app's own view, sampled once a second over the call: concealment (% of
   *  playout slots in the last 5 s, averaged), jitter-buffer target and measured delay (mean). */
  receiver: { concealedPercent: number; targetDelayMs: number; playoutDelayMs: number; catchUpDropped: number; stalls: number };
  app: { caller: Record<string, unknown> | null; callee: Record<string, unknown> | null };
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

function direction(name: string, from: { captureOnsets: number[] }, to: { playOnsets: number[]; playedFrames: number }, windowS: number, endMs: number, periodMs?: number): DirectionResult {
  const start = from.captureOnsets[0] ?? 0;
  const captured = from.captureOnsets.filter((t) => t < endMs);
  const samples = pairOnsets(captured, to.playOnsets, periodMs);
  return {
    direction: name,
    bursts: { captured: captured.length, played: to.playOnsets.length, paired: samples.length },
    renderedFrames: to.playedFrames,
    overall: summarize(samples.map((s) => s.delayMs)),
    windows: perWindow(samples, start, windowS),
  };
}

export async function runCondition(c: Condition, seconds: number, windowS: number, log: (s: string) => void): Promise<RunResult> {
  const server = await spawnServer({});
  let proxy: ImpairmentProxy | null = null;
  const sparse = c.sparseBursts ? writeSparseBursts(BURSTS) : null;
  try {
    if (c.impairment) proxy = await startImpairmentProxy(server.port, c.impairment);
    const origin = `https://127.0.0.1:${proxy ? proxy.port : server.port}`;
    const pair = await openCallPair(origin, sparse?.path ?? BURSTS, c.impairment ? SPEECH : BURSTS);
    try {
      log(`${c.name}: call secured, measuring ${seconds} s`);
      const pids = { caller: rendererPids(pair.caller.chromium.userDataDir), callee: rendererPids(pair.callee.chromium.userDataDir) };
      const cpu0 = { caller: cpuSeconds(pids.caller), callee: cpuSeconds(pids.callee), at: performance.now() };
      if (c.outageMs && proxy) {
        const p = proxy;
        setTimeout(() => p.outage(c.outageMs!), (seconds * 1000) / 2);
      }
      // The caller → callee direction is measured in every condition: sample the callee's figures.
      const samples: Record<string, number>[] = [];
      const until = performance.now() + seconds * 1000 + 1500;
      while (performance.now() < until) {
        await Bun.sleep(Math.min(1000, until - performance.now()));
        const d = (await audioDetails(pair.callee.page).catch(() => null)) as Record<string, number> | null;
        if (d) samples.push(d);
      }
      const mean = (k: string) => Math.round((10 * samples.reduce((a, d) => a + (d[k] ?? 0), 0)) / Math.max(1, samples.length)) / 10;
      const last = samples[samples.length - 1] ?? {};
      const receiver = {
        concealedPercent: mean("concealedPercent"),
        targetDelayMs: mean("targetDelayMs"),
        playoutDelayMs: mean("playoutDelayMs"),
        catchUpDropped: last.catchUpDropped ?? 0,
        stalls: last.stalls ?? 0,
      };
      const elapsed = (performance.now() - cpu0.at) / 1000;
      const cpu = {
        caller: Math.round((1000 * (cpuSeconds(pids.caller) - cpu0.caller)) / elapsed) / 10,
        callee: Math.round((1000 * (cpuSeconds(pids.callee) - cpu0.callee)) / elapsed) / 10,
      };
      const [a, b] = await Promise.all([probeData(pair.caller.page), probeData(pair.callee.page)]);
      const end = (a.captureOnsets[0] ?? Date.now()) + seconds * 1000;
      const directions = [direction("caller → callee", a, b, windowS, end, sparse?.periodMs)];
      if (!c.impairment) directions.push(direction("callee → caller", b, a, windowS, (b.captureOnsets[0] ?? Date.now()) + seconds * 1000));
      const app = { caller: await audioDetails(pair.caller.page), callee: await audioDetails(pair.callee.page) };
      let speechCorrelation: number | undefined;
      let speechCorrelationFrom10s: number | undefined;
      if (c.impairment) {
        const heard = trimLeadingSilence(a.playedEnvelope);
        const speech = rmsEnvelope(readWavMono16(SPEECH).samples);
        speechCorrelation = Math.round(1000 * segmentedCorrelation(heard, speech)) / 1000;
        // The envelope has a value per 10 ms.
        if (seconds >= 20) speechCorrelationFrom10s = Math.round(1000 * segmentedCorrelation(heard.slice(1000), speech)) / 1000;
      }
      const errors = [...pair.caller.errors, ...pair.callee.errors];
      if (errors.length) log(`${c.name}: page errors: ${errors.join(" | ")}`);
      await pair.hangUp();
      return { condition: c.name, seconds, directions, rendererCpu: cpu, ...(speechCorrelation !== undefined ? { speechCorrelation } : {}), ...(speechCorrelationFrom10s !== undefined ? { speechCorrelationFrom10s } : {}), receiver, app };
    } finally {
      await pair.close();
    }
  } finally {
    await proxy?.close();
    await server.stop();
    sparse?.remove();
  }
}

const f = (n: number) => (Number.isFinite(n) ? Math.round(n).toString() : "–");

function print(r: RunResult): void {
  console.log(`\n== ${r.condition} (${r.seconds} s) — renderer CPU: caller ${r.rendererCpu.caller} %, callee ${r.rendererCpu.callee} % of a core`);
  for (const d of r.directions) {
    console.log(`${d.direction}: bursts captured ${d.bursts.captured}, heard ${d.bursts.played}, paired ${d.bursts.paired} (${d.renderedFrames} frames rendered); whole call p50 ${f(d.overall.p50)} / p95 ${f(d.overall.p95)} / max ${f(d.overall.max)} ms`);
    console.log(`  window      n   p50   p95   max  (ms)`);
    for (const w of d.windows) console.log(`  ${String(w.fromS).padStart(3)}–${String(w.toS).padEnd(4)}s ${String(w.n).padStart(3)} ${f(w.p50).padStart(5)} ${f(w.p95).padStart(5)} ${f(w.max).padStart(5)}`);
  }
  if (r.speechCorrelation !== undefined) console.log(`speech correlation (caller hears callee): ${r.speechCorrelation}${r.speechCorrelationFrom10s !== undefined ? `, from 10 s on ${r.speechCorrelationFrom10s}` : ""}`);
  const v = r.receiver;
  console.log(`callee's jitter buffer (mean over the call): target ${f(v.targetDelayMs)} ms, measured ${f(v.playoutDelayMs)} ms, concealed ${v.concealedPercent} %; ${v.catchUpDropped} frames dropped to catch up, ${v.stalls} stalls`);
  for (const [who, d] of Object.entries(r.app)) if (d) console.log(`app ${who}: ${JSON.stringify(d)}`);
}

if (import.meta.main) {
  const seconds = Number(arg("seconds", "60"));
  const windowS = Number(arg("window", "5"));
  const runs = Number(arg("runs", "1"));
  const which = arg("conditions", "calm");
  const json = process.argv.includes("--json");
  if (!(seconds >= 5 && seconds <= 600) || !(windowS >= 1) || !(runs >= 1 && runs <= 20)) {
    console.error("bench:latency: --seconds must be 5–600, --window ≥ 1, --runs 1–20");
    process.exit(2);
  }
  const names = which === "all" ? CONDITIONS.map((c) => c.name) : which.split(",");
  const chosen = names.map((n) => CONDITIONS.find((c) => c.name === n) ?? (console.error(`bench:latency: unknown condition "${n}" (have: ${CONDITIONS.map((c) => c.name).join(", ")})`), process.exit(2)));
  const results: RunResult[] = [];
  for (let run = 1; run <= runs; run++) {
    for (const c of chosen) {
      const r = await runCondition(c, seconds, windowS, (s) => console.error(`bench:latency: run ${run}: ${s}`));
      results.push(r);
      if (!json) print(r);
    }
  }
  if (json) console.log(JSON.stringify(results, null, 2));
}
