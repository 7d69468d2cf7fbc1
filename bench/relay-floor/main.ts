// `npm run bench:relay-floor -- [calls] [seconds] [runs]`: the CPU a minimal Bun WebSocket relay
// (floor-server.ts, in its own process) spends per relayed frame under voicesrv bench's load —
// `calls` pairs, 150-byte frames every 20 ms each way — to compare with `voicesrv bench --plain`
// and `voicesrv bench`. Prints each run and the spread.
import { resolve } from "node:path";
import { cpuSplit, cpuUsedSince } from "../../cli/bench/proc-stats.ts";

const [calls, seconds, runs] = [Number(process.argv[2] ?? 100), Number(process.argv[3] ?? 10), Number(process.argv[4] ?? 3)];

async function once(): Promise<{ us: number; kernelUs: number }> {
  const proc = Bun.spawn([process.execPath, resolve(import.meta.dir, "floor-server.ts")], { stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!/listening on \d+/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the floor server did not start");
    text += new TextDecoder().decode(value);
  }
  const port = Number(text.match(/listening on (\d+)/)![1]);
  try {
    const socks: WebSocket[] = [];
    for (let i = 0; i < calls * 2; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/?id=${i}`);
      ws.binaryType = "arraybuffer";
      await new Promise((r, j) => ((ws.onopen = r), (ws.onerror = j)));
      socks.push(ws);
    }
    let received = 0;
    for (const ws of socks) ws.onmessage = () => received++;
    const frame = new Uint8Array(150);
    const cpu0 = cpuSplit(proc.pid);
    const t0 = performance.now();
    let seq = 0;
    await new Promise<void>((done) => {
      const timer = setInterval(() => {
        const due = Math.floor((performance.now() - t0) / 20);
        for (; seq < due; seq++) for (const ws of socks) ws.send(frame);
        if (performance.now() - t0 >= seconds * 1000) {
          clearInterval(timer);
          done();
        }
      }, 5);
    });
    await Bun.sleep(500);
    const { total: cpu, kernel } = cpuUsedSince(proc.pid, cpu0);
    for (const ws of socks) ws.close();
    const us = (cpu * 1e6) / Math.max(1, received);
    const kernelUs = (kernel * 1e6) / Math.max(1, received);
    console.log(`floor relay, ${calls} calls, ${seconds} s: ${received} frames relayed, ${((cpu / seconds) * 100).toFixed(1)} % of one core, ${us.toFixed(1)} µs CPU per relayed frame (${kernelUs.toFixed(1)} µs in the kernel)`);
    return { us, kernelUs };
  } finally {
    proc.kill();
    await proc.exited;
  }
}

const results: { us: number; kernelUs: number }[] = [];
for (let i = 0; i < runs; i++) results.push(await once());
const spread = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
if (runs > 1) console.log(`over ${runs} runs: ${spread(results.map((r) => r.us))} µs per relayed frame, ${spread(results.map((r) => r.kernelUs))} µs of it in the kernel`);
