// Issue #12, defect 2: `systemctl restart voicesrv; systemctl reload voicesrv` within a fraction
// of a second sent SIGHUP before serve had installed its handler; the default action ended the
// process with a clean exit and Restart=on-failure left the service dead. Now SIGHUP is caught
// by the first module evaluated (cli/early-signals.ts) and delivered once the server is up, and
// `voicesrv reload` waits until the process catches it.
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { sighupHandled } from "../../cli/ops/reload-signal.ts";

const repo = join(import.meta.dirname, "../..");
const bun = join(repo, "node_modules/.bin/bun");
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function readAll(stream: ReadableStream<Uint8Array>, until: RegExp, ms: number): Promise<string> {
  const reader = stream.getReader();
  let text = "";
  const end = Date.now() + ms;
  while (!until.test(text) && Date.now() < end) {
    const r = await Promise.race([reader.read(), Bun.sleep(end - Date.now()).then(() => ({ done: true, value: undefined }))]);
    if (r.done) break;
    text += new TextDecoder().decode(r.value);
  }
  reader.releaseLock();
  return text;
}

test.skipIf(!existsSync("/proc/self/status"))("a SIGHUP that arrives before the server has started is held, not fatal, and reloads once it runs", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "voicesrv-hup-"));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const p = Bun.spawn([bun, "cli/main.ts", "serve", "--host", "127.0.0.1", "--port", "0", "-d", dataDir, "--config", "/nonexistent"], { cwd: repo, stdout: "pipe", stderr: "pipe" });
  cleanups.push(async () => {
    p.kill("SIGTERM");
    await p.exited;
  });
  // Watch the process from its first instant: the moment it catches SIGHUP, the server must not
  // have started yet (a fresh data dir has no certificate until the server generates one).
  const cert = join(dataDir, "certs", "cert.pem");
  const end = Date.now() + 20_000;
  let caught = false;
  while (Date.now() < end && p.exitCode === null) {
    if (sighupHandled(p.pid) === true) {
      caught = true;
      break;
    }
  }
  expect(caught).toBe(true);
  expect(existsSync(cert)).toBe(false);
  process.kill(p.pid, "SIGHUP");

  const out = await readAll(p.stdout, /certificate reloaded/, 20_000);
  expect(out).toMatch(/listening on https:\/\/127\.0\.0\.1:\d+/);
  expect(out).toMatch(/SIGHUP: reloading the certificate/);
  expect(out).toMatch(/certificate reloaded/);
  expect(p.exitCode).toBeNull();
  expect(readFileSync(`/proc/${p.pid}/status`, "utf8")).toMatch(/^State:\s*[RS]/m);
}, 60_000);
