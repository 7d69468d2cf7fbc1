#!/usr/bin/env bun
// `npm run bench:first-seconds` — a diagnostic for the start of a call, not a benchmark figure:
// one calm call between two headless Chromium processes (as bench:latency), and for its first
// seconds
//   - every burst's one-way delay (caller → callee),
//   - per captured frame of the caller: how long after capture its page's main thread got it
//     and sent it (a busy sending page),
//   - per frame: how long after capture the callee's page received it (a busy receiving page),
//   - the callee's jitter-buffer target and measured playout delay every 50 ms.
// It is how the start-up delay of issue #10 was taken apart (call-start.ts, jitter-buffer.ts).
//
//   bun bench/latency/first-seconds.ts [seconds=5] [runs=1]
import { resolve } from "node:path";
import { spawnServer } from "../../cli/bench/spawn-server.ts";
import { openCallPair, probeData } from "./call-pair.ts";
import { pairOnsets } from "./onset-delay.ts";

const BURSTS = resolve("test/fixtures/bursts-1khz-20ms-every-500ms-48k.wav");

interface Trace {
  /** [capture time, main thread got it] per frame handed to the encoder. */
  caps: number[][];
  /** Date.now() of each binary WebSocket send / receive. */
  sends: number[];
  recvs: number[];
  jb: { t: number; target: number; playout: number }[];
}

/** Runs in both pages before the app (self-contained): wraps the capture tap, the socket and samples Call details. */
function tracer(): void {
  const w = window as unknown as { __trace: Trace; __voicesrv?: { details?: unknown }; __voicesrvCaptureTap?: (p: Float32Array, at: number) => void };
  const t: Trace = { caps: [], sends: [], recvs: [], jb: [] };
  w.__trace = t;
  const tap = w.__voicesrvCaptureTap;
  w.__voicesrvCaptureTap = (p, at) => {
    t.caps.push([at, Date.now()]);
    tap?.(p, at);
  };
  const desc = Object.getOwnPropertyDescriptor(WebSocket.prototype, "onmessage")!;
  Object.defineProperty(WebSocket.prototype, "onmessage", {
    configurable: true,
    get() {
      return desc.get!.call(this);
    },
    set(fn) {
      (this as WebSocket).addEventListener("message", (e: MessageEvent) => void (typeof e.data !== "string" && t.recvs.push(Date.now())));
      desc.set!.call(this, fn);
    },
  });
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (this: WebSocket, data: Parameters<WebSocket["send"]>[0]) {
    if (typeof data !== "string") t.sends.push(Date.now());
    return send.call(this, data);
  };
  setInterval(() => {
    const d = w.__voicesrv?.details as { targetDelayMs: number; playoutDelayMs: number } | null | undefined;
    if (d) t.jb.push({ t: Date.now(), target: d.targetDelayMs, playout: d.playoutDelayMs });
  }, 50);
}

async function once(seconds: number): Promise<void> {
  const server = await spawnServer({});
  try {
    const pair = await openCallPair(`https://127.0.0.1:${server.port}`, BURSTS, BURSTS, tracer);
    try {
      await Bun.sleep(seconds * 1000);
      const [a, b] = await Promise.all([probeData(pair.caller.page), probeData(pair.callee.page)]);
      const trace = (p: typeof pair.caller.page) => p.evaluate(() => (window as unknown as { __trace: Trace }).__trace);
      const [ta, tb] = await Promise.all([trace(pair.caller.page), trace(pair.callee.page)]);
      const t0 = ta.caps[0]?.[0] ?? a.captureOnsets[0] ?? 0;
      const bursts = pairOnsets(a.captureOnsets, b.playOnsets).filter((s) => s.capturedMs - t0 < seconds * 1000);
      console.log(`bursts (captured at ms → delay ms): ${bursts.map((s) => `${Math.round(s.capturedMs - t0)}→${Math.round(s.delayMs)}`).join("  ")}`);
      // The n-th frame handed to the encoder is the n-th binary send and the n-th binary receive
      // (no other binary messages in a call; frames dropped as stale are never handed over).
      const n = Math.min(40, ta.caps.length);
      const row = (f: (i: number) => number | undefined) => Array.from({ length: n }, (_, i) => f(i)).map((v) => (v === undefined ? "-" : Math.round(v))).join(" ");
      console.log(`caller, main thread got frame i (ms after capture): ${row((i) => ta.caps[i]![1]! - ta.caps[i]![0]!)}`);
      console.log(`caller, sent frame i (ms after capture):            ${row((i) => (ta.sends[i] === undefined ? undefined : ta.sends[i]! - ta.caps[i]![0]!))}`);
      console.log(`callee, received frame i (ms after capture):        ${row((i) => (tb.recvs[i] === undefined ? undefined : tb.recvs[i]! - ta.caps[i]![0]!))}`);
      console.log(`sending started (ms after the caller's first capture): caller ${Math.round((ta.sends[0] ?? NaN) - t0)}, callee ${Math.round((tb.sends[0] ?? NaN) - t0)}`);
      let last = "";
      const jb: string[] = [];
      for (const s of tb.jb) {
        const v = `${Math.round(s.target)}/${Math.round(s.playout)}`;
        if (v !== last && s.t - t0 < seconds * 1000) jb.push(`${Math.round(s.t - t0)}:${v}`);
        last = v;
      }
      console.log(`callee jitter buffer (ms after first capture: target/playout): ${jb.join(" ")}`);
      await pair.hangUp();
    } finally {
      await pair.close();
    }
  } finally {
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
