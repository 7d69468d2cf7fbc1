#!/usr/bin/env bun
// `npm run bench:first-seconds` — a diagnostic for the start of a call, not a benchmark figure:
// one calm call between two headless Chromium processes (as bench:latency), and for its first
// seconds
//   - every burst's one-way delay (caller → callee),
//   - per frame: how long after capture the caller's link worker gave it to the encoder, started
//     encrypting it (the encoder's output) and sent it (a busy sender),
//   - per frame: how long after capture the callee's link worker handed it, decrypted and
//     decoded, to the playback worklet (a busy receiver),
//   - the callee's jitter-buffer target and measured playout delay every 50 ms,
//   - how many frames each side received before its media had the keys (dropped unheard),
//   - the whole machine's CPU use every 100 ms (on a small machine running both browsers and the
//     server, call setup saturates every core for a moment), and which threads of which
//     processes used it before, during and after the call's start (thread-cpu.ts),
//   - each phone's call-setup steps (setup-marks.ts: taps, microphone open, answer sent,
//     connected, keys confirmed, sending).
// It is how the start-up delay of issue #10 was taken apart (call-start.ts, jitter-buffer.ts).
//
//   bun bench/latency/first-seconds.ts [seconds=5] [runs=1]
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { spawnServer } from "../../cli/bench/spawn-server.ts";
import { openCallPair, probeData } from "./call-pair.ts";
import { pairOnsets } from "./onset-delay.ts";
import { sampleThreadCpu } from "./thread-cpu.ts";

const BURSTS = resolve("test/fixtures/bursts-1khz-20ms-every-500ms-48k.wav");

interface PageTrace {
  /** Capture time of every frame handed to the encoder (the capture tap). */
  caps: number[];
  jb: { t: number; target: number; playout: number }[];
}

interface WorkerTrace {
  /** Date.now() of each frame given to the Opus encoder, each encryption started (the encoder's
   *  output), each binary WebSocket send, and each decoded frame posted to the playback worklet. */
  encodes: number[];
  encrypts: number[];
  sends: number[];
  /** Date.now() of each decryption started (a received frame's first step). */
  decrypts: number[];
  decoded: number[];
}

/** Runs in both pages before the app (self-contained): records the capture tap and samples Call details. */
function pageTracer(): void {
  const w = window as unknown as { __trace: PageTrace; __voicesrv?: { details?: unknown }; __voicesrvCaptureTap?: (p: Float32Array, at: number) => void };
  const t: PageTrace = { caps: [], jb: [] };
  w.__trace = t;
  const tap = w.__voicesrvCaptureTap;
  w.__voicesrvCaptureTap = (p, at) => {
    t.caps.push(at);
    tap?.(p, at);
  };
  setInterval(() => {
    const d = w.__voicesrv?.details as { targetDelayMs: number; playoutDelayMs: number } | null | undefined;
    if (d) t.jb.push({ t: Date.now(), target: d.targetDelayMs, playout: d.playoutDelayMs });
  }, 50);
}

/** Runs in each link worker as it starts (self-contained): times the encoder's input, the
 *  encryptions, the socket's binary sends and the decoded frames. */
function workerTracer(): void {
  const g = self as unknown as { __trace: WorkerTrace };
  const t: WorkerTrace = { encodes: [], encrypts: [], sends: [], decrypts: [], decoded: [] };
  g.__trace = t;
  const AE = (self as unknown as { AudioEncoder?: { prototype: { encode: (d: unknown) => void } } }).AudioEncoder;
  if (AE) {
    const encode = AE.prototype.encode;
    AE.prototype.encode = function (this: unknown, d: unknown) {
      t.encodes.push(Date.now());
      return encode.call(this, d);
    };
  }
  const encrypt = SubtleCrypto.prototype.encrypt;
  SubtleCrypto.prototype.encrypt = function (this: SubtleCrypto, ...args: Parameters<SubtleCrypto["encrypt"]>) {
    t.encrypts.push(Date.now());
    return encrypt.apply(this, args);
  };
  const decrypt = SubtleCrypto.prototype.decrypt;
  SubtleCrypto.prototype.decrypt = function (this: SubtleCrypto, ...args: Parameters<SubtleCrypto["decrypt"]>) {
    t.decrypts.push(Date.now());
    return decrypt.apply(this, args);
  };
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (this: WebSocket, data: Parameters<WebSocket["send"]>[0]) {
    if (typeof data !== "string") t.sends.push(Date.now());
    return send.call(this, data);
  };
  const post = MessagePort.prototype.postMessage;
  MessagePort.prototype.postMessage = function (this: MessagePort, msg: unknown, transfer?: unknown) {
    if ((msg as { type?: string } | null)?.type === "frame") t.decoded.push(Date.now());
    return (post as (m: unknown, t?: unknown) => void).call(this, msg, transfer);
  };
}

/** Whole-machine CPU use (all cores: 100 % each) per 100 ms, from /proc/stat: is everything busy? */
function machineCpu(): { samples: { t: number; pct: number }[]; cores: number; stop(): void } {
  const read = () => {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { idle: f[3]! + f[4]!, total: f.reduce((a, b) => a + b, 0) };
  };
  const cores = readFileSync("/proc/stat", "utf8").split("\n").filter((l) => /^cpu\d/.test(l)).length;
  const samples: { t: number; pct: number }[] = [];
  let last = read();
  const timer = setInterval(() => {
    const now = read();
    const total = now.total - last.total;
    if (total > 0) samples.push({ t: Date.now(), pct: Math.round((100 * cores * (total - (now.idle - last.idle))) / total) });
    last = now;
  }, 100);
  return { samples, cores, stop: () => clearInterval(timer) };
}

async function once(seconds: number): Promise<void> {
  const server = await spawnServer({});
  const cpu = machineCpu();
  // Profile directories are only known once the browsers run; until then each process is
  // labelled by what it is, and which browser it belongs to is filled in from the directory.
  const dirs: string[] = [];
  const threads = sampleThreadCpu((pid, cmd) => {
    if (pid === server.pid) return "server";
    const dir = /--user-data-dir=(\S+)/.exec(cmd)?.[1];
    if (pid === process.pid) return "bench";
    if (!dir || !cmd.includes("chromium")) return `pid${pid}:${cmd.slice(0, 30)}`;
    if (!dirs.includes(dir)) dirs.push(dir);
    const utility = /--utility-sub-type=\S*?(audio|network|storage)/.exec(cmd)?.[1];
    return `browser${dirs.indexOf(dir) + 1}:${/--type=(\S+)/.exec(cmd)?.[1] ?? "main"}${utility ? `/${utility}` : ""}`;
  });
  try {
    const pair = await openCallPair(`https://127.0.0.1:${server.port}`, BURSTS, BURSTS, { page: pageTracer, linkWorker: workerTracer });
    try {
      await Bun.sleep(seconds * 1000);
      const [a, b] = await Promise.all([probeData(pair.caller.page), probeData(pair.callee.page)]);
      const trace = (p: typeof pair.caller.page) => p.evaluate(() => (window as unknown as { __trace: PageTrace }).__trace);
      const workerTrace = async (p: typeof pair.caller.page): Promise<WorkerTrace> =>
        (await p.workers().find((w) => w.url().endsWith("/link-worker.js"))?.evaluate(() => (self as unknown as { __trace?: WorkerTrace }).__trace)) ?? { encodes: [], encrypts: [], sends: [], decrypts: [], decoded: [] };
      const [ta, tb] = await Promise.all([trace(pair.caller.page), trace(pair.callee.page)]);
      const [wa, wb] = await Promise.all([workerTrace(pair.caller.page), workerTrace(pair.callee.page)]);
      const t0 = ta.caps[0] ?? a.captureOnsets[0] ?? 0;
      const bursts = pairOnsets(a.captureOnsets, b.playOnsets).filter((s) => s.capturedMs - t0 < seconds * 1000);
      console.log(`bursts (captured at ms → delay ms): ${bursts.map((s) => `${Math.round(s.capturedMs - t0)}→${Math.round(s.delayMs)}`).join("  ")}`);
      // The n-th frame handed to the encoder is the n-th encryption and binary send, and the n-th
      // decoded frame at the other end if that end had its keys when the first frame came (no
      // other binary messages in a call; frames dropped as stale are never handed over).
      const n = Math.min(40, ta.caps.length);
      const row = (f: (i: number) => number | undefined) => Array.from({ length: n }, (_, i) => f(i)).map((v) => (v === undefined ? "-" : Math.round(v))).join(" ");
      const after = (times: number[]) => row((i) => (times[i] === undefined ? undefined : times[i]! - ta.caps[i]!));
      console.log(`caller's worker, encoding frame i (ms after capture):   ${after(wa.encodes)}`);
      console.log(`caller's worker, encrypting frame i (ms after capture): ${after(wa.encrypts)}`);
      console.log(`caller's worker, sent frame i (ms after capture):       ${after(wa.sends)}`);
      console.log(`callee's worker, decrypting frame i (ms after capture): ${after(wb.decrypts)}`);
      console.log(`callee's worker, decoded frame i (ms after capture):    ${after(wb.decoded)}`);
      const marks = (p: typeof pair.caller.page) =>
        p.evaluate(() => performance.getEntriesByType("mark").filter((m) => m.name.startsWith("voicesrv:")).map((m) => ({ name: m.name.slice(9), at: performance.timeOrigin + m.startTime })));
      for (const [who, p] of [["caller", pair.caller.page], ["callee", pair.callee.page]] as const) {
        console.log(`${who}'s call setup (ms after the caller's first capture): ${(await marks(p)).map((m) => `${m.name} ${Math.round(m.at - t0)}`).join(" · ")}`);
      }
      console.log(`sending started (ms after the caller's first capture): caller ${Math.round((wa.sends[0] ?? NaN) - t0)}, callee ${Math.round((wb.sends[0] ?? NaN) - t0)}`);
      const beforeKeys = (p: typeof pair.caller.page) => p.evaluate(() => (window as unknown as { __voicesrv: { stats: { framesBeforeKeys?: number } | null } }).__voicesrv.stats?.framesBeforeKeys ?? null);
      console.log(`frames received before the keys (dropped unheard): caller ${await beforeKeys(pair.caller.page)}, callee ${await beforeKeys(pair.callee.page)}`);
      let last = "";
      const jb: string[] = [];
      for (const s of tb.jb) {
        const v = `${Math.round(s.target)}/${Math.round(s.playout)}`;
        if (v !== last && s.t - t0 < seconds * 1000) jb.push(`${Math.round(s.t - t0)}:${v}`);
        last = v;
      }
      console.log(`callee jitter buffer (ms after first capture: target/playout): ${jb.join(" ")}`);
      const busy = cpu.samples.filter((c) => c.t - t0 > -1500 && c.t - t0 < seconds * 1000).map((c) => `${Math.round(c.t - t0)}:${c.pct}`);
      console.log(`machine CPU % (${cpu.cores} cores = ${100 * cpu.cores} %; ms after first capture:%): ${busy.join(" ")}`);
      const who = (d: string) => (d === pair.caller.chromium.userDataDir ? "caller" : d === pair.callee.chromium.userDataDir ? "callee" : "?");
      const named = (w: string) => w.replace(/^browser(\d+)/, (_, i: string) => who(dirs[Number(i) - 1] ?? ""));
      for (const [from, to] of [[-1500, 0], [0, 1200], [2000, 4000]] as const) {
        const top = threads.between(t0 + from, t0 + to).slice(0, 14);
        console.log(`threads' CPU, ${from}…${to} ms (% of a core): ${top.map((x) => `${named(x.what)} ${x.pct}`).join(" · ")}`);
      }
      await pair.hangUp();
    } finally {
      await pair.close();
    }
  } finally {
    cpu.stop();
    threads.stop();
    await server.stop();
  }
}

const seconds = Number(process.argv[2] ?? 5);
const runs = Number(process.argv[3] ?? 1);
if (!(seconds >= 2 && seconds <= 60) || !(runs >= 1 && runs <= 20)) {
  console.error("bench:first-seconds: seconds must be 2–60, runs 1–20");
  process.exit(2);
}
for (let r = 1; r <= runs; r++) {
  console.log(`\n== run ${r}`);
  await once(seconds);
}
