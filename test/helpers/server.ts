// Starts the real server (real TLS with a generated certificate) on 127.0.0.1, ephemeral port.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Limits } from "../../protocol/limits.ts";
import { resolveConfig, type PartialConfig } from "../../server/config.ts";
import { startServer, type RunningServer, type StartOptions } from "../../server/index.ts";
import { silentLogger, type LogFields, type Logger } from "../../server/logger.ts";

export interface TestServer extends RunningServer {
  dataDir: string;
  wsUrl(group: string): string;
  close(): Promise<void>;
}

export async function startTestServer(opts: PartialConfig & { limits?: Partial<Limits> } = {}, log: Logger = silentLogger, start: StartOptions = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), "voicesrv-test-"));
  // Every test client comes from 127.0.0.1; the per-address join budget is tested on its own.
  const limits = { joinsPerIpPerMinute: 1_000_000, ...opts.limits };
  const config = resolveConfig([{ host: "127.0.0.1", port: 0, dataDir, ...opts, limits }]);
  const server = await startServer(config, log, start);
  const base = server.url.replace(/^http/, "ws");
  return Object.assign(server, {
    dataDir,
    wsUrl: (group: string) => `${base}/ws/${group}`,
    async close() {
      await server.stop(2000);
      await rm(dataDir, { recursive: true, force: true });
    },
  });
}

/** A logger that keeps its lines, for tests that check what the operator is told. */
export function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (m: string, fields?: LogFields) => void lines.push(`${level} ${m}${fields ? ` ${JSON.stringify(fields)}` : ""}`);
  return { lines, info: at("info"), warn: at("warn"), error: at("error"), debug: at("debug") };
}
