import type { Command } from "commander";
import { runBench, type BenchResult } from "../bench/run-bench.ts";
import { spawnServer } from "../bench/spawn-server.ts";
import { CliError } from "../cli-error.ts";

function positiveInt(name: string, v: string, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new CliError(`${name} must be a whole number from 1 to ${max}, got "${v}"`, 2);
  return n;
}

function printRun(r: BenchResult, plain: boolean): void {
  console.log(`calls                 ${r.calls} (${r.calls * 2} ${plain ? "plain WS" : "WSS"} connections), ${r.seconds} s, ${r.frameBytes}-byte frames`);
  console.log(`frames relayed        ${r.framesReceived} of ${r.framesSent} (${r.lossPercent} % lost), ${r.framesPerSecond} frames/s`);
  console.log(`relay latency         p50 ${r.latencyMs.p50} ms · p90 ${r.latencyMs.p90} ms · p99 ${r.latencyMs.p99} ms · max ${r.latencyMs.max} ms`);
  console.log(`call setup            p50 ${r.callSetupMs.p50} ms · p99 ${r.callSetupMs.p99} ms`);
  console.log(`server                ${r.serverCpuPercent} % of one core (${r.serverCpuMicrosPerFrame} µs CPU per relayed frame, ${r.serverKernelMicrosPerFrame} µs of it in the kernel), ${r.serverRssMiB} MiB RSS`);
}

/** [min, max] of each figure over the runs. */
function spread(rs: BenchResult[]) {
  const mm = (f: (r: BenchResult) => number): [number, number] => [Math.min(...rs.map(f)), Math.max(...rs.map(f))];
  return { serverCpuPercent: mm((r) => r.serverCpuPercent), serverCpuMicrosPerFrame: mm((r) => r.serverCpuMicrosPerFrame), serverKernelMicrosPerFrame: mm((r) => r.serverKernelMicrosPerFrame), lossPercent: mm((r) => r.lossPercent), framesPerSecond: mm((r) => r.framesPerSecond) };
}

export function registerBench(program: Command): void {
  program
    .command("bench")
    .description("measure the media relay: N concurrent calls at 50 frames/s per direction, on loopback")
    .option("--calls <n>", "concurrent 1:1 calls", "50")
    .option("--seconds <n>", "how long to send", "10")
    .option("--frame-bytes <n>", "bytes per media frame (a v2 Opus frame: 12 header + 2 + 120-byte slot + 16 tag = 150)", "150")
    .option("--runs <n>", "repeat the measurement (a fresh server each time) and report the spread", "1")
    .option("--plain", "plain WebSocket instead of TLS (the server's --http mode): shows what TLS costs per frame")
    .option("--json", "print the result as JSON")
    .addHelpText("after", "\nExample:\n  voicesrv bench --calls 100 --seconds 20\n\nStarts its own server on 127.0.0.1 (a child process, so its CPU and memory are measured alone).")
    .action(async (f: { calls: string; seconds: string; frameBytes: string; runs: string; plain?: boolean; json?: boolean }) => {
      const calls = positiveInt("--calls", f.calls, 2000);
      const runs = positiveInt("--runs", f.runs, 20);
      const seconds = positiveInt("--seconds", f.seconds, 600);
      const frameBytes = positiveInt("--frame-bytes", f.frameBytes, 2048);
      if (frameBytes < 20) throw new CliError("--frame-bytes must be at least 20 (header + timestamp)", 2);
      const log = (line: string) => !f.json && console.error(`bench: ${line}`);
      const results: BenchResult[] = [];
      for (let run = 1; run <= runs; run++) {
        const server = await spawnServer(
          {
            VOICESRV_CONNECTIONS_PER_IP: String(calls * 2 + 10),
            VOICESRV_MEMBERS_PER_GROUP: "100",
            // Every bench client joins from 127.0.0.1 within seconds.
            VOICESRV_JOINS_PER_IP_PER_MINUTE: String(calls * 2 * 60 + 600),
          },
          { plain: Boolean(f.plain) },
        );
        try {
          log(`run ${run}/${runs}: server pid ${server.pid} on 127.0.0.1:${server.port}${f.plain ? " (plain WebSocket)" : ""}`);
          const r = await runBench({ calls, seconds, frameBytes, port: server.port, pid: server.pid, plain: Boolean(f.plain) }, log);
          results.push(r);
          if (!f.json) printRun(r, Boolean(f.plain));
        } finally {
          await server.stop();
        }
      }
      if (f.json) return void console.log(JSON.stringify(runs === 1 ? results[0] : { runs: results, spread: spread(results) }, null, 2));
      if (runs > 1) {
        const sp = spread(results);
        console.log(`\nover ${runs} runs      server CPU ${sp.serverCpuPercent[0]}–${sp.serverCpuPercent[1]} % of one core, ${sp.serverCpuMicrosPerFrame[0]}–${sp.serverCpuMicrosPerFrame[1]} µs per relayed frame (kernel ${sp.serverKernelMicrosPerFrame[0]}–${sp.serverKernelMicrosPerFrame[1]} µs), loss ${sp.lossPercent[0]}–${sp.lossPercent[1]} %`);
      }
    });
}
