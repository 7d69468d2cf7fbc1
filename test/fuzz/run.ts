// The fuzzer: seeded, structured, bounded in count and time. Several raw WebSocket clients
// (workers) join groups — the innocent call's group among them — and send catalogue messages
// broken by mutate.ts, binary frames of every length with random, foreign (the innocent call's)
// and their own call handles, and now and then a framing attack that makes Bun close the socket.
// Each batch ends with a ping whose pong proves the server still answers. The report: messages
// sent, crashes (server exit, 1011 closes, handler failures in its log), the innocent call's
// delivery, server memory before and after, and every reply that carries a path or a stack.
import { DEFAULT_LIMITS } from "../../protocol/limits.ts";
import { prng } from "../helpers/prng.ts";
import { TestDevice } from "../helpers/test-device.ts";
import { type Knowledge, learn, signedHello, type Rng } from "./catalogue.ts";
import { FuzzSocket } from "./fuzz-socket.ts";
import { startFuzzServer } from "./fuzz-server.ts";
import { startInnocentCall, type InnocentReport } from "./innocent-call.ts";
import { leakKind } from "./leak-check.ts";
import { binaryFrame, fragmented, framingAttack, malformedText, type Shot, structuredText, wsPing } from "./mutate.ts";
import { encodeClientFrame } from "../helpers/raw-ws.ts";

export interface FuzzOptions {
  messages: number;
  seed: number;
  /** Stop after this long even if fewer messages were sent (reported as such). */
  maxSeconds: number;
  workers?: number;
  /** Messages per batch; each batch ends with a ping/pong round trip. */
  batch?: number;
  progress?: (line: string) => void;
  /** Stops the run early (Ctrl-C in the command): the report covers what was sent. */
  signal?: AbortSignal;
}

export interface FuzzReport {
  seed: number;
  messages: number;
  seconds: number;
  messagesPerSecond: number;
  stoppedBy: "count" | "time" | "signal";
  /** Server process exits, 1011 closes, "handler failed" lines in its log: must be 0. */
  crashes: number;
  crashDetails: string[];
  /** A batch whose closing ping got no pong within 10 s, the socket still open: must be 0. */
  stalls: number;
  innocent: InnocentReport;
  memory: { rssBeforeMiB: number; rssAfterMiB: number };
  leaks: { count: number; examples: string[] };
  /** Replies that were not JSON objects with a string `t`: must be 0. */
  badReplies: number;
  reconnects: number;
  closeCodes: Record<string, number>;
  errorCodes: Record<string, number>;
  labels: Record<string, number>;
}

const GROUPS = ["innocent", "fz-a", "fz-b", "fz-c"];
const PONG_TIMEOUT_MS = 10_000;
const PING = encodeClientFrame(1, Buffer.from('{"t":"ping"}'));
const mib = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;

type Generator = (k: Knowledge, r: Rng, ctx: { lengths: number; foreign: number }) => Shot;

/** Weights of the message kinds; framing attacks and WebSocket pings are rare on purpose. */
const MIX: [number, Generator][] = [
  [50, (k, r) => structuredText(k, r)],
  [12, (k, r) => malformedText(k, r)],
  [32, (k, r, c) => binaryFrame(k, r, c.lengths++, c.foreign, DEFAULT_LIMITS.maxFrameBytes)],
  [5.6, (k, r) => fragmented(k, r)],
  [0.3, (k, r) => framingAttack(k, r)],
  [0.1, (k, r) => wsPing(k, r)],
];
const TOTAL_WEIGHT = MIX.reduce((s, [w]) => s + w, 0);

function pickGenerator(r: Rng): Generator {
  let x = r() * TOTAL_WEIGHT;
  for (const [w, g] of MIX) if ((x -= w) < 0) return g;
  return MIX[0]![1];
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const log = o.progress ?? (() => {});
  const workers = o.workers ?? 6;
  const batch = o.batch ?? 200;
  const server = await startFuzzServer();
  const wsUrl = (g: string) => `wss://127.0.0.1:${server.port}/ws/${g}`;
  const innocent = await startInnocentCall(wsUrl, GROUPS[0]);
  await Bun.sleep(300);
  const rssBefore = server.rssBytes();
  log(`server pid ${server.pid} on 127.0.0.1:${server.port}, ${mib(rssBefore)} MiB RSS; innocent call handle ${innocent.handle}`);

  const counts = { sent: 0, reconnects: 0, stalls: 0, badReplies: 0 };
  const closeCodes: Record<string, number> = {};
  const errorCodes: Record<string, number> = {};
  const labels: Record<string, number> = {};
  const crashDetails: string[] = [];
  const leakExamples: string[] = [];
  let leaks = 0;
  const secrets = [server.dataDir, import.meta.dirname.replace(/\/test\/fuzz$/, "")];
  const t0 = performance.now();
  const deadline = t0 + o.maxSeconds * 1000;
  let stoppedBy: FuzzReport["stoppedBy"] = "count";
  const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
  let lastProgress = t0;

  const worker = async (w: number) => {
    const r = prng(o.seed * 7919 + w);
    const ctx = { lengths: w * 97, foreign: innocent.handle };
    let sock: FuzzSocket | null = null;
    let k: Knowledge;
    let waiter: { resolve: (what: "pong" | "closed") => void } | null = null;
    // One device per worker for the whole run: a rejoin is the same member, so the persistent
    // roster holds a handful of fuzz devices, not one per reconnect (groups would fill up).
    const device = await TestDevice.create();
    const newKnowledge = (): Knowledge => ({ myId: null, challenge: null, sig: null, d: device.d, keys: [], memberIds: [...innocent.memberIds], callIds: [], callHandles: [] });
    k = newKnowledge();

    const open = async () => {
      const knowledge = newKnowledge();
      k = knowledge;
      const group = GROUPS[Math.floor(r() * GROUPS.length)]!;
      let gotChallenge: (n: string | null) => void = () => {};
      const challenge = new Promise<string | null>((resolve) => (gotChallenge = resolve));
      sock = await FuzzSocket.open(server.port, `/ws/${group}`, {
        text(t) {
          const leak = leakKind(t, secrets);
          if (leak) {
            leaks++;
            if (leakExamples.length < 10) leakExamples.push(`${leak}: ${t.slice(0, 300)}`);
          }
          let m: any;
          try {
            m = JSON.parse(t);
          } catch {
            m = null;
          }
          if (!m || typeof m !== "object" || typeof m.t !== "string") return void counts.badReplies++;
          if (m.t === "error") bump(errorCodes, String(m.code));
          learn(knowledge, m);
          if (m.t === "challenge") gotChallenge(knowledge.challenge);
          if (m.t === "pong" && waiter) {
            const w2 = waiter;
            waiter = null;
            w2.resolve("pong");
          }
        },
        binary() {},
        close(code, reason) {
          bump(closeCodes, String(code));
          if (code === 1011) crashDetails.push(`worker ${w}: close 1011 ${reason}`);
          const leak = leakKind(reason, secrets);
          if (leak) {
            leaks++;
            if (leakExamples.length < 10) leakExamples.push(`${leak} in close reason: ${reason}`);
          }
          gotChallenge(null);
          if (waiter) {
            const w2 = waiter;
            waiter = null;
            w2.resolve("closed");
          }
        },
      });
      const n = await challenge;
      // Most connections join (a signed hello for this socket's challenge), so the fuzz reaches
      // the call state machine; some never do.
      if (n && r() < 0.8) {
        const hello = await signedHello(device, n, group);
        knowledge.sig = hello.sig as string;
        (sock as FuzzSocket).write(encodeClientFrame(1, Buffer.from(JSON.stringify(hello))));
      }
    };

    const leave = () => (sock as FuzzSocket | null)?.close();
    while (true) {
      if (counts.sent >= o.messages) return leave();
      if (performance.now() > deadline || o.signal?.aborted) {
        stoppedBy = o.signal?.aborted ? "signal" : "time";
        return leave();
      }
      if (server.exitCode() !== null) return;
      if (!sock || !(sock as FuzzSocket).isOpen) {
        if (sock) counts.reconnects++;
        try {
          await open();
        } catch (e) {
          crashDetails.push(`worker ${w}: cannot connect: ${(e as Error).message}`);
          return;
        }
      }
      const s = sock as unknown as FuzzSocket;
      const parts: Buffer[] = [];
      let closing = false;
      const n = Math.min(batch, o.messages - counts.sent);
      counts.sent += n;
      for (let i = 0; i < n; i++) {
        const shot = pickGenerator(r)(k, r, ctx);
        bump(labels, shot.label.split(":")[0] + ":" + (shot.label.split(":")[1] ?? "").split("+")[0]);
        parts.push(shot.bytes);
        if (shot.closes) {
          closing = true;
          counts.sent -= n - i - 1;
          break;
        }
      }
      if (!closing) parts.push(PING);
      const done = new Promise<"pong" | "closed" | "timeout">((resolve) => {
        waiter = { resolve };
        setTimeout(() => resolve("timeout"), PONG_TIMEOUT_MS);
      });
      s.write(Buffer.concat(parts));
      const result = await done;
      waiter = null;
      if (result === "timeout") {
        if (s.isOpen) counts.stalls++;
        s.destroy();
      } else if (result === "pong" && r() < 0.01) {
        s.close(); // now and then a clean leave and a fresh join elsewhere
      }
      if (w === 0 && performance.now() - lastProgress > 5000) {
        lastProgress = performance.now();
        const secs = (lastProgress - t0) / 1000;
        log(`${counts.sent} messages in ${secs.toFixed(0)} s (${Math.round(counts.sent / secs)}/s), server ${mib(server.rssBytes())} MiB RSS`);
      }
    }
  };

  await Promise.all(Array.from({ length: workers }, (_, i) => worker(i)));
  const seconds = (performance.now() - t0) / 1000;
  const innocentReport = await innocent.stop();
  await Bun.sleep(500);
  const exited = server.exitCode();
  if (exited !== null) crashDetails.push(`server exited with code ${exited}`);
  const rssAfter = exited === null ? server.rssBytes() : 0;
  for (const line of server.output().split("\n")) if (/handler failed|uncaught|panic|Segmentation fault|RangeError|TypeError/i.test(line)) crashDetails.push(`server log: ${line.slice(0, 300)}`);
  await server.stop();
  return {
    seed: o.seed,
    messages: counts.sent,
    seconds: Math.round(seconds * 10) / 10,
    messagesPerSecond: Math.round(counts.sent / seconds),
    stoppedBy,
    crashes: crashDetails.length,
    crashDetails,
    stalls: counts.stalls,
    innocent: innocentReport,
    memory: { rssBeforeMiB: mib(rssBefore), rssAfterMiB: mib(rssAfter) },
    leaks: { count: leaks, examples: leakExamples },
    badReplies: counts.badReplies,
    reconnects: counts.reconnects,
    closeCodes,
    errorCodes,
    labels,
  };
}
