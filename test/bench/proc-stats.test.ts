// The relay benchmarks split the server's CPU into user space and kernel (BENCHMARKS.md: the
// kernel's share alone is what keeps a relayed frame above 8 µs here), so the split must put
// each kind of work on its side — checked with real processes that do only one kind.
import { spawn } from "node:child_process";
import { describe, expect, test } from "vitest";
import { cpuSplit, cpuUsedSince } from "../../cli/bench/proc-stats.ts";

/** Runs `cmd` for about `ms` and returns its CPU split, read just before it is stopped. */
async function splitOf(cmd: string[], ms: number): Promise<{ user: number; kernel: number; total: number }> {
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: "ignore" });
  try {
    await new Promise((r) => setTimeout(r, ms));
    const s = cpuSplit(child.pid!);
    return { ...s, total: cpuUsedSince(child.pid!, { user: 0, kernel: 0 }).total };
  } finally {
    child.kill("SIGKILL");
  }
}

describe("cpuSplit", () => {
  test("a busy loop in user space is counted as user time", { timeout: 10_000 }, async () => {
    const s = await splitOf(["sh", "-c", "while :; do :; done"], 800);
    expect(s.user).toBeGreaterThan(0.1);
    expect(s.user).toBeGreaterThan(3 * s.kernel);
    expect(s.total).toBeCloseTo(s.user + s.kernel, 2);
  });

  test("work done inside system calls is counted as kernel time", { timeout: 10_000 }, async () => {
    // Reading /dev/urandom: the kernel generates every byte, the process only asks.
    const s = await splitOf(["dd", "if=/dev/urandom", "of=/dev/null", "bs=65536", "count=100000000"], 800);
    expect(s.kernel).toBeGreaterThan(0.1);
    expect(s.kernel).toBeGreaterThan(3 * s.user);
  });
});
