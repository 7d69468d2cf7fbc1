// The server under fuzz: `voicesrv serve` in its own process (its memory is measured alone, and
// a crash is an exit, not a torn-down test), real TLS, 127.0.0.1, an ephemeral port. Rate limits
// and join budgets are raised so the fuzzer reaches the parser and state machine instead of the
// flood guard (test/server/abuse.test.ts covers the guard); everything else is the default.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { rssBytes } from "../../cli/bench/proc-stats.ts";
import { waitForListening } from "../helpers/process.ts";

const repo = resolve(import.meta.dirname, "../..");

export interface FuzzServer {
  pid: number;
  port: number;
  dataDir: string;
  /** Everything the server wrote to stdout and stderr. */
  output(): string;
  exitCode(): number | null;
  rssBytes(): number;
  stop(): Promise<void>;
}

export async function startFuzzServer(): Promise<FuzzServer> {
  const dataDir = await mkdtemp(join(tmpdir(), "voicesrv-fuzz-"));
  const proc = Bun.spawn([process.execPath, join(repo, "cli/main.ts"), "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir, "--config", join(dataDir, "none.json")], {
    cwd: repo,
    env: {
      ...process.env,
      NODE_ENV: "production",
      VOICESRV_CONTROL_MESSAGES_PER_SECOND: "1000000",
      VOICESRV_MEDIA_FRAMES_PER_SECOND: "1000000",
      VOICESRV_CONNECTIONS_PER_IP: "1000",
      // Every fuzz client comes from 127.0.0.1, and many of its hellos fail on purpose.
      VOICESRV_JOINS_PER_IP_PER_MINUTE: "1000000000",
      VOICESRV_FAILED_JOINS_PER_IP_PER_MINUTE: "1000000000",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  const port = await waitForListening(proc);
  // Keep draining both pipes so the server never blocks on a full one.
  const drain = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) out += dec.decode(chunk);
  };
  void drain(proc.stdout);
  void drain(proc.stderr);
  return {
    pid: proc.pid,
    port,
    dataDir,
    output: () => out,
    exitCode: () => proc.exitCode,
    rssBytes: () => rssBytes(proc.pid),
    async stop() {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      await proc.exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
