// Load model: N concurrent 1:1 calls, each direction sending one frame every 20 ms (a real
// call's rate) of the size an Opus 24 kbit/s frame has after encryption. Each frame carries its
// send time, so the receiver measures relay latency through the real TLS + WebSocket path.
import { encodeMediaHeader, MEDIA_HEADER_BYTES } from "../../protocol/media-header.ts";
import { base64urlDecode, base64urlEncode } from "../../protocol/base64url.ts";
import { helloSignedBytes, signWithDevice } from "../../protocol/identity-v2.ts";
import { PROTOCOL_VERSION, type ServerMessage } from "../../protocol/messages.ts";
import { cpuSplit, cpuUsedSince, rssBytes } from "./proc-stats.ts";

export interface BenchOptions {
  calls: number;
  seconds: number;
  frameBytes: number;
  port: number;
  pid: number;
  /** Plain WebSocket (the server's --http mode) instead of TLS: shows what TLS costs. */
  plain?: boolean;
}

export interface BenchResult {
  calls: number;
  seconds: number;
  frameBytes: number;
  framesSent: number;
  framesReceived: number;
  lossPercent: number;
  framesPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  serverCpuPercent: number;
  /** Server CPU time per relayed frame: the relay's cost, independent of the offered load. */
  serverCpuMicrosPerFrame: number;
  /** The part of serverCpuMicrosPerFrame spent in the kernel (system calls, TCP). */
  serverKernelMicrosPerFrame: number;
  serverRssMiB: number;
  callSetupMs: { p50: number; p99: number };
}

type Client = { ws: WebSocket; id: string; queue: ServerMessage[]; wait: (t: string) => Promise<ServerMessage> };

/** A bench member: a fresh device key each, signing the hello as the app does (IDENTITY.md §2). */
async function helloFor(challenge: string, group: string): Promise<string> {
  const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign"])) as CryptoKeyPair;
  const d = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));
  const sig = await signWithDevice(keys.privateKey, helloSignedBytes(base64urlDecode(challenge)!, group));
  return JSON.stringify({ t: "hello", v: PROTOCOL_VERSION, d: base64urlEncode(d), name: "Bench", sig: base64urlEncode(sig) });
}

function openClient(url: string): Promise<Client> {
  const group = url.split("/").at(-1)!;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { tls: { rejectUnauthorized: false } } as any);
    ws.binaryType = "arraybuffer";
    const queue: ServerMessage[] = [];
    const waiters: { t: string; r: (m: ServerMessage) => void }[] = [];
    const c: Client = {
      ws,
      id: "",
      queue,
      wait: (t) => {
        const i = queue.findIndex((m) => m.t === t);
        if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]!);
        return new Promise((r) => waiters.push({ t, r }));
      },
    };
    ws.addEventListener("message", (ev) => {
      if (typeof ev.data !== "string") return;
      const m = JSON.parse(ev.data) as ServerMessage;
      const i = waiters.findIndex((w) => w.t === m.t);
      if (i >= 0) waiters.splice(i, 1)[0]!.r(m);
      else queue.push(m);
    });
    ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    ws.onopen = async () => {
      const ch = (await c.wait("challenge")) as Extract<ServerMessage, { t: "challenge" }>;
      ws.send(await helloFor(ch.n, group));
      const w = (await c.wait("welcome")) as Extract<ServerMessage, { t: "welcome" }>;
      c.id = w.id;
      resolve(c);
    };
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function runBench(o: BenchOptions, progress: (line: string) => void): Promise<BenchResult> {
  const base = `${o.plain ? "ws" : "wss"}://127.0.0.1:${o.port}/ws/`;
  const pairs: { a: Client; b: Client; handle: number }[] = [];
  const setup: number[] = [];
  for (let i = 0; i < o.calls; i++) {
    // Groups of ≤ 50 members, as real groups are small.
    const group = `bench${Math.floor(i / 25)}`;
    const a = await openClient(base + group);
    const b = await openClient(base + group);
    const t0 = performance.now();
    a.ws.send(JSON.stringify({ t: "call", to: b.id }));
    const inc = (await b.wait("incoming")) as Extract<ServerMessage, { t: "incoming" }>;
    b.ws.send(JSON.stringify({ t: "answer", callId: inc.callId }));
    const c = (await a.wait("connected")) as Extract<ServerMessage, { t: "connected" }>;
    await b.wait("connected");
    setup.push(performance.now() - t0);
    pairs.push({ a, b, handle: c.callHandle });
  }
  progress(`${o.calls} calls connected; sending for ${o.seconds} s`);

  const latencies: number[] = [];
  let received = 0;
  const onFrame = (ev: MessageEvent) => {
    if (typeof ev.data === "string") return;
    const view = new DataView(ev.data as ArrayBuffer);
    latencies.push(performance.now() - view.getFloat64(MEDIA_HEADER_BYTES));
    received++;
  };
  for (const p of pairs) {
    p.a.ws.addEventListener("message", onFrame);
    p.b.ws.addEventListener("message", onFrame);
  }

  let sent = 0;
  let seq = 0;
  const cpu0 = cpuSplit(o.pid);
  const t0 = performance.now();
  const frame = new Uint8Array(o.frameBytes);
  crypto.getRandomValues(frame);
  const tick = () => {
    for (const p of pairs) {
      for (const ws of [p.a.ws, p.b.ws]) {
        frame.set(encodeMediaHeader({ callHandle: p.handle, epoch: 0, seq }));
        new DataView(frame.buffer).setFloat64(MEDIA_HEADER_BYTES, performance.now());
        ws.send(frame);
        sent++;
      }
    }
    seq++;
  };
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      // Catch up if the event loop fell behind, so the offered load stays 50 frames/s.
      const due = Math.floor((performance.now() - t0) / 20);
      while (seq < due) tick();
      if (performance.now() - t0 >= o.seconds * 1000) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  const sendSeconds = (performance.now() - t0) / 1000;
  // Let the last frames arrive before counting.
  await Bun.sleep(500);
  const elapsed = (performance.now() - t0) / 1000;
  const { total: cpu, kernel } = cpuUsedSince(o.pid, cpu0);
  const rss = rssBytes(o.pid);
  for (const p of pairs) {
    p.a.ws.close(1000);
    p.b.ws.close(1000);
  }
  latencies.sort((x, y) => x - y);
  setup.sort((x, y) => x - y);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    calls: o.calls,
    seconds: o.seconds,
    frameBytes: o.frameBytes,
    framesSent: sent,
    framesReceived: received,
    lossPercent: r2(((sent - received) / Math.max(1, sent)) * 100),
    framesPerSecond: Math.round(received / sendSeconds),
    latencyMs: { p50: r2(percentile(latencies, 50)), p90: r2(percentile(latencies, 90)), p99: r2(percentile(latencies, 99)), max: r2(latencies.at(-1) ?? NaN) },
    serverCpuPercent: r2((cpu / elapsed) * 100),
    serverCpuMicrosPerFrame: r2((cpu * 1e6) / Math.max(1, received)),
    serverKernelMicrosPerFrame: r2((kernel * 1e6) / Math.max(1, received)),
    serverRssMiB: r2(rss / 1024 / 1024),
    callSetupMs: { p50: r2(percentile(setup, 50)), p99: r2(percentile(setup, 99)) },
  };
}
