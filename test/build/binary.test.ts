// The release artefact: one executable that embeds the PWA and runs from an empty directory
// with no Bun, no Node and no node_modules anywhere in reach.
import { copyFile, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, expect, test } from "vitest";
import { waitForListening } from "../helpers/process.ts";

const root = resolve(import.meta.dirname, "../..");
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test("the compiled binary serves /api/health and /work over HTTPS from an empty directory", async () => {
  const buildDir = await mkdtemp(join(tmpdir(), "voicesrv-build-"));
  const runDir = await mkdtemp(join(tmpdir(), "voicesrv-run-"));
  dirs.push(buildDir, runDir);
  const build = Bun.spawnSync([process.execPath, "cli/build.ts", "--outfile", join(buildDir, "voicesrv")], { cwd: root, stdout: "pipe", stderr: "pipe" });
  expect(build.exitCode, build.stderr.toString()).toBe(0);
  const bin = join(runDir, "voicesrv");
  await copyFile(join(buildDir, "voicesrv"), bin);
  await Bun.$`chmod 755 ${bin}`;
  expect((await stat(bin)).size).toBeGreaterThan(1_000_000);

  const version = Bun.spawnSync([bin, "--version"], { cwd: runDir, env: { PATH: "" } });
  expect(version.stdout.toString().trim()).toMatch(/^\d+\.\d+\.\d+/);

  const proc = Bun.spawn([bin, "serve", "--host", "127.0.0.1", "--port", "0"], {
    cwd: runDir,
    // No PATH, no HOME, no node_modules: only the binary itself.
    env: { PATH: "", VOICESRV_CONFIG: join(runDir, "none.json") },
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    const port = await waitForListening(proc);
    const health = await fetch(`https://127.0.0.1:${port}/api/health`, { tls: { rejectUnauthorized: false } } as any);
    expect(health.status).toBe(200);
    expect((await health.json()).status).toBe("ok");
    const page = await fetch(`https://127.0.0.1:${port}/work`, { tls: { rejectUnauthorized: false } } as any);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<!doctype html>");
    // It generated its certificate into ./data of the empty directory.
    expect((await readdir(join(runDir, "data", "certs"))).sort()).toEqual(["cert.pem", "key.pem"]);
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}, 120_000);
