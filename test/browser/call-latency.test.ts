// One-way delay of a real call from its first second: two headless Chromium processes through
// the real server, each microphone playing 1 kHz bursts, onsets timed as they enter the capture
// worklet and leave the playback worklet (bench/latency/, the same method as the benchmark).
// The bound here is deliberately loose — a busy 2-core CI box stalls Chromium for hundreds of
// ms — so it catches a return of the old behaviour (200–350 ms for the first seconds, from a
// jitter buffer that started high and learnt its delay from the call's start-up hiccups and from
// DTX pauses), not a few ms.
// The real figures come from `npm run bench:latency` (BENCHMARKS.md).
// Also checks the call screen is clean under the CSP and that Call details shows real figures.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { resolve } from "node:path";
import { openCallPair, probeData, type CallPair } from "../../bench/latency/call-pair.ts";
import { pairOnsets, summarize } from "../../bench/latency/onset-delay.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const BURSTS = resolve("test/fixtures/bursts-1khz-20ms-every-500ms-48k.wav");

let server: TestServer;
let pair: CallPair;

beforeAll(async () => {
  server = await startTestServer();
  pair = await openCallPair(server.url, BURSTS, BURSTS, {
    page: () => {
      const seen: string[] = [];
      (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
      document.addEventListener("securitypolicyviolation", (e) => seen.push(`${e.violatedDirective} ${e.sourceFile}:${e.lineNumber}`));
    },
  });
});

afterAll(async () => {
  await pair?.close();
  await server?.close();
});

describe("call latency", () => {
  test("one-way delay in the first 5 s is low in both directions; no CSP violation; Call details shows the call", { timeout: 60_000 }, async () => {
    await pair.caller.page.waitForTimeout(6500);
    const [a, b] = await Promise.all([probeData(pair.caller.page), probeData(pair.callee.page)]);
    for (const [name, from, to] of [
      ["caller → callee", a, b],
      ["callee → caller", b, a],
    ] as const) {
      const start = from.captureOnsets[0]!;
      const first5 = pairOnsets(
        from.captureOnsets.filter((t) => t < start + 5000),
        to.playOnsets,
      );
      const s = summarize(first5.map((p) => p.delayMs));
      console.info(`[call-latency] ${name}: first 5 s n=${s.n} p50 ${s.p50.toFixed(0)} ms p95 ${s.p95.toFixed(0)} ms max ${s.max.toFixed(0)} ms`);
      // 10 bursts were captured; some must have been heard (the rest: start-up backlog dropped,
      // which a starved machine makes large).
      expect(s.n).toBeGreaterThanOrEqual(3);
      // Goal on a calm machine: p50 ≤ 60 ms, p95 ≤ 90 ms. Loose here: on the shared 2-core dev box
      // at load averages of 10–30 first-5-s medians of 66–287 ms were measured (the jitter buffer
      // rightly covers the stalls such load causes); a return of the old start-up behaviour
      // (target learnt from DTX pauses and start-up bunches, decaying 20 ms/s from 200+) reads
      // well above this at any load.
      expect(s.p50).toBeLessThan(300);
    }

    for (const p of [pair.caller, pair.callee]) {
      expect(await p.page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations)).toEqual([]);
      expect(p.errors).toEqual([]);
    }

    const page = pair.caller.page;
    await page.getByRole("button", { name: "Call details" }).click();
    const detail = (k: string) => page.locator(`vs-call-details [data-detail=${k}]`).textContent();
    await expect.poll(() => detail("codec")).toBe("Opus");
    expect(await detail("buffer")).toMatch(/^\d+ ms \(aiming for \d+ ms\)$/);
    expect(await detail("loss")).toMatch(/^\d+(\.\d)? %$/);
    expect(await detail("bitrate")).toMatch(/kbit\/s$/);
    await expect.poll(() => detail("rtt"), { timeout: 10_000 }).toMatch(/^\d+ ms to the server$/);
    expect(await detail("output")).toMatch(/^\d+ ms( \(ran dry \d+×\))?$/);
    // Chromium counts the output's underruns (AudioContext.playbackStats): support can see clicks.
    const underruns = await page.evaluate(() => (window as unknown as { __voicesrv: { details: { outputUnderruns: number | null } | null } }).__voicesrv.details?.outputUnderruns);
    expect(typeof underruns).toBe("number");
  });
});
