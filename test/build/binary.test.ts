// The release artefact: one executable that embeds the PWA and runs from an empty directory
// with no Bun, no Node and no node_modules anywhere in reach.
import { copyFile, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, expect, test } from "vitest";
import { startPebble } from "../helpers/pebble.ts";
import { waitForListening } from "../helpers/process.ts";

const root = resolve(import.meta.dirname, "../..");
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

let building: Promise<{ bin: string; runDir: string }> | null = null;
/** Builds the binary once for this file and copies it into an otherwise empty directory. */
function built() {
  building ??= (async () => {
    const buildDir = await mkdtemp(join(tmpdir(), "voicesrv-build-"));
    const runDir = await mkdtemp(join(tmpdir(), "voicesrv-run-"));
    dirs.push(buildDir, runDir);
    const build = Bun.spawnSync([process.execPath, "cli/build.ts", "--outfile", join(buildDir, "voicesrv")], { cwd: root, stdout: "pipe", stderr: "pipe" });
    expect(build.exitCode, build.stderr.toString()).toBe(0);
    const bin = join(runDir, "voicesrv");
    await copyFile(join(buildDir, "voicesrv"), bin);
    await Bun.$`chmod 755 ${bin}`;
    return { bin, runDir };
  })();
  return building;
}

test("the compiled binary serves /api/health and /work over HTTPS from an empty directory", async () => {
  const { bin, runDir } = await built();
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

test("the compiled binary obtains an ACME certificate from a real ACME server (acme-client embedded)", async () => {
  const { bin, runDir } = await built();
  const pebble = await startPebble();
  try {
    const dataDir = join(runDir, "acme-data");
    const r = Bun.spawnSync(
      [bin, "cert", "acme", "--domain", "localhost", "--directory", pebble.directoryUrl, "--directory-ca", pebble.directoryCaFile, "--challenge-port", String(pebble.challengePort), "-H", "127.0.0.1", "-d", dataDir, "--config", join(runDir, "none.json"), "--json", "--no-reload"],
      { cwd: runDir, env: { PATH: "" } },
    );
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout.toString())).toMatchObject({ obtained: true, domain: "localhost", info: { issuer: expect.stringMatching(/Pebble/) } });
    expect((await readdir(join(dataDir, "certs", "acme"))).sort()).toEqual(["account-key.pem", "challenges", "settings.json"]);
  } finally {
    await pebble.stop();
  }
}, 120_000);
