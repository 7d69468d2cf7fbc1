// status and doctor find a server started by hand from any directory: its data directory
// (relative to its own working directory), its port (also when it asked for port 0), its config.
import { realpathSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { configOfProcess, handStartedServers, listeningPorts, parseServeArgs } from "../../cli/ops/server-locator.ts";
import { waitForListening } from "../helpers/process.ts";

const repo = join(import.meta.dirname, "../..");
const bun = join(repo, "node_modules/.bin/bun");
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("parseServeArgs", () => {
  test("the forms commander accepts", () => {
    expect(parseServeArgs(["/usr/local/bin/voicesrv", "serve", "--config", "/etc/x.json", "-p", "8443", "--data-dir=/srv/v", "-H127.0.0.1", "--http"])).toEqual({ config: "/etc/x.json", port: "8443", dataDir: "/srv/v", host: "127.0.0.1", http: true });
    expect(parseServeArgs(["bun", "cli/main.ts", "status", "-p", "1"])).toEqual({});
  });
});

describe("a server started by hand", () => {
  test("is found with its cwd-relative data dir, its config file and the port the kernel gave it", async () => {
    const cwd = realpathSync(await mkdtemp(join(tmpdir(), "voicesrv-hand-")));
    cleanups.push(() => rm(cwd, { recursive: true, force: true }));
    writeFileSync(join(cwd, "my.json"), JSON.stringify({ logLevel: "warn", host: "127.0.0.1" }));
    const p = Bun.spawn([bun, join(repo, "cli/main.ts"), "serve", "--port", "0", "-c", "my.json", "--log-level", "info"], { cwd, stdout: "pipe", stderr: "pipe" });
    cleanups.push(async () => {
      p.kill("SIGTERM");
      await p.exited;
    });
    const port = await waitForListening(p);
    expect(handStartedServers()).toContain(p.pid);
    const c = configOfProcess(p.pid)!;
    expect(c).not.toBeNull();
    expect(c.dataDir).toBe(join(cwd, "data"));
    expect(c.host).toBe("127.0.0.1");
    expect(c.port).toBe(0);
    expect(listeningPorts(p.pid)).toContain(port);
  }, 60_000);
});
