// Issue #13, defect 6: two servers started at the same instant on one port must not both run
// (reusePort would let them share it, each with its own certificate). The data directory's
// lock lets exactly one start; the SIGHUP certificate swap (a second listener in the same
// process) keeps working.
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { resolveConfig } from "../../server/config.ts";
import { startServer, StartError, type RunningServer } from "../../server/index.ts";
import { silentLogger } from "../../server/logger.ts";
import { waitForListening } from "../helpers/process.ts";

const repo = join(import.meta.dirname, "../..");
const bun = join(repo, "node_modules/.bin/bun");
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "voicesrv-lock-"));
  cleanups.push(() => rm(d, { recursive: true, force: true }));
  return d;
}

/** A port that was free a moment ago (the servers under test need one fixed port to fight over). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("one server per port and data directory", () => {
  test("two servers started at the same instant in one process: exactly one starts", async () => {
    const dataDir = await tempDir();
    const config = resolveConfig([{ host: "127.0.0.1", port: await freePort(), dataDir }]);
    const results = await Promise.allSettled([startServer(config, silentLogger), startServer(config, silentLogger)]);
    for (const r of results) if (r.status === "fulfilled") cleanups.push(() => r.value.stop(1000));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(StartError);
    expect(String(refused.reason.message)).toMatch(/already running with the data directory/);
  });

  test("two `voicesrv serve` processes started at the same instant: exactly one listens, the other exits 1 and says why", async () => {
    const dataDir = await tempDir();
    const port = await freePort();
    const spawn = () =>
      Bun.spawn([bun, "cli/main.ts", "serve", "--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDir, "--config", "/nonexistent"], {
        cwd: repo,
        env: { ...process.env, NO_COLOR: "1" },
        stdout: "pipe",
        stderr: "pipe",
      });
    const procs = [spawn(), spawn()];
    for (const p of procs) cleanups.push(() => (p.kill("SIGTERM"), p.exited));
    // The loser exits on its own; the winner keeps running.
    const first = await Promise.race(procs.map((p, i) => p.exited.then((code) => ({ i, code }))));
    expect(first.code).toBe(1);
    const loser = procs[first.i]!;
    expect(await new Response(loser.stderr).text()).toMatch(/already running with the data directory/);
    const winner = procs[1 - first.i]!;
    expect(await waitForListening(winner)).toBe(port);
    await Bun.sleep(300);
    expect(winner.exitCode).toBeNull();
  });

  test("after the first server stops, the lock is free again; a reload keeps the port shared only by the same process", async () => {
    const dataDir = await tempDir();
    const config = resolveConfig([{ host: "127.0.0.1", port: 0, dataDir }]);
    const a: RunningServer = await startServer(config, silentLogger);
    await expect(startServer({ ...config }, silentLogger)).rejects.toThrow(/already running/);
    await a.reloadCertificate();
    await a.stop(1000);
    const b = await startServer(config, silentLogger);
    await b.stop(1000);
  });
});
