// The bench measures a server in its own process, so its CPU and memory are the server's alone.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export interface SpawnedServer {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/** From a checkout, process.execPath is bun and the entry is cli/main.ts; in the binary, it is the binary. */
function selfCommand(): string[] {
  const compiled = import.meta.dir.startsWith("/$bunfs");
  return compiled ? [process.execPath] : [process.execPath, resolve(import.meta.dir, "../main.ts")];
}

export async function spawnServer(env: Record<string, string>, opts: { plain?: boolean } = {}): Promise<SpawnedServer> {
  const dataDir = await mkdtemp(join(tmpdir(), "voicesrv-bench-"));
  const proc = Bun.spawn([...selfCommand(), "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir, ...(opts.plain ? ["--http"] : [])], {
    env: { ...process.env, ...env, VOICESRV_CONFIG: join(dataDir, "none.json"), NODE_ENV: "production" },
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = proc.stdout.getReader();
  let text = "";
  let port = 0;
  const end = Date.now() + 15_000;
  while (!port && Date.now() < end) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
    port = Number(text.match(/listening on https?:\/\/[^\s]+:(\d+)/)?.[1] ?? 0);
  }
  reader.releaseLock();
  if (!port) {
    proc.kill();
    throw new Error("the bench server did not start");
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  void proc.stdout.pipeTo(new WritableStream());
  return {
    pid: proc.pid,
    port,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
