// The benchmark's impairment proxy does what BENCHMARKS.md says it does: delay, in-order
// delivery under jitter, a lost segment holding the stream for an RTO, an outage.
import { afterEach, describe, expect, test } from "vitest";
import { createServer, connect, type Server, type Socket } from "node:net";
import { startImpairmentProxy, type Impairment, type ImpairmentProxy } from "../../bench/latency/impairment-proxy.ts";

let echo: Server | null = null;
let proxy: ImpairmentProxy | null = null;
let client: Socket | null = null;

afterEach(async () => {
  client?.destroy();
  await proxy?.close();
  await new Promise<void>((r) => (echo ? echo.close(() => r()) : r()));
  echo = proxy = client = null;
});

/** Echo server behind the proxy; returns a function that sends one byte and times its echo. */
async function through(imp: Impairment) {
  echo = createServer((s) => s.on("data", (d) => s.write(d)));
  await new Promise<void>((r) => echo!.listen(0, "127.0.0.1", () => r()));
  proxy = await startImpairmentProxy((echo.address() as { port: number }).port, imp);
  const c = (client = connect(proxy.port, "127.0.0.1"));
  await new Promise<void>((r) => c.once("connect", () => r()));
  const arrivals: { byte: number; at: number }[] = [];
  c.on("data", (d: Buffer) => {
    for (const b of d) arrivals.push({ byte: b, at: performance.now() });
  });
  return { c, arrivals };
}

describe("impairment proxy", () => {
  test("adds its delay in each direction", async () => {
    const { c, arrivals } = await through({ delayMs: 40 });
    const t0 = performance.now();
    c.write(Buffer.from([1]));
    await new Promise((r) => setTimeout(r, 200));
    expect(arrivals).toHaveLength(1);
    expect(arrivals[0]!.at - t0).toBeGreaterThanOrEqual(79);
  });

  test("jitter never reorders the byte stream", async () => {
    const { c, arrivals } = await through({ jitterMs: 40 });
    for (let i = 0; i < 50; i++) {
      c.write(Buffer.from([i]));
      await new Promise((r) => setTimeout(r, 2));
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(arrivals.map((a) => a.byte)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  test("every segment lost: each one holds the stream for an RTO of 200–1000 ms", async () => {
    const { c, arrivals } = await through({ lossPercent: 100, rtoMinMs: 200, rtoMaxMs: 300 });
    const t0 = performance.now();
    c.write(Buffer.from([7]));
    await new Promise((r) => setTimeout(r, 900));
    // Lost on the way in and on the way back: two RTOs.
    expect(arrivals).toHaveLength(1);
    expect(arrivals[0]!.at - t0).toBeGreaterThanOrEqual(399);
  });

  test("an outage holds everything sent meanwhile, which then arrives at once", async () => {
    const { c, arrivals } = await through({});
    proxy!.outage(300);
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) {
      c.write(Buffer.from([i]));
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(arrivals.map((a) => a.byte)).toEqual([0, 1, 2, 3, 4]);
    expect(arrivals[0]!.at - t0).toBeGreaterThanOrEqual(299);
    expect(arrivals[4]!.at - arrivals[0]!.at).toBeLessThan(30);
  });
});
