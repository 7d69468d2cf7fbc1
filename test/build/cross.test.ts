// Cross builds for a Raspberry Pi and older x86: `bun cli/build.ts --target …` with a
// SHA256SUMS file, and the arm64 binary actually run (under Debian's qemu-user-static):
// --version, serve, /api/health. .ci/run installs qemu-user-static and libc6:arm64.
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, expect, test } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const qemu = Bun.which("qemu-aarch64-static", { PATH: "/usr/bin:/usr/sbin:/bin" });
const arm64Libc = existsSync("/lib/ld-linux-aarch64.so.1");
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function readUntil(stream: ReadableStream<Uint8Array>, re: RegExp, ms: number): Promise<string> {
  const reader = stream.getReader();
  let text = "";
  const end = Date.now() + ms;
  while (!re.test(text) && Date.now() < end) {
    const r = await Promise.race([reader.read(), Bun.sleep(Math.max(0, end - Date.now())).then(() => ({ done: true as const, value: undefined }))]);
    if (r.done) break;
    text += new TextDecoder().decode(r.value);
  }
  reader.releaseLock();
  return text;
}

test.skipIf(!qemu || !arm64Libc)("bun-linux-arm64 build: checksummed, and runs --version, serve and /api/health under qemu", async () => {
  const dir = await mkdtemp(join(tmpdir(), "voicesrv-cross-"));
  dirs.push(dir);
  await chmod(dir, 0o755);
  const out = join(dir, "voicesrv-linux-arm64");
  const build = Bun.spawnSync([process.execPath, "cli/build.ts", "--target", "bun-linux-arm64", "--outfile", out], { cwd: root, stdout: "pipe", stderr: "pipe" });
  expect(build.exitCode, build.stderr.toString()).toBe(0);
  // An aarch64 ELF: e_machine 183 at offset 18.
  const head = new Uint8Array(await Bun.file(out).slice(0, 20).arrayBuffer());
  expect([...head.slice(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
  expect(head[18] | (head[19]! << 8)).toBe(183);
  const sums = Bun.spawnSync(["sha256sum", "-c", "SHA256SUMS"], { cwd: dir });
  expect(sums.stdout.toString()).toContain("voicesrv-linux-arm64: OK");
  expect(sums.exitCode).toBe(0);

  const runDir = await mkdtemp(join(tmpdir(), "voicesrv-cross-run-"));
  dirs.push(runDir);
  const version = Bun.spawnSync([qemu!, out, "--version"], { cwd: runDir, env: { PATH: "" } });
  expect(version.stdout.toString().trim()).toMatch(/^\d+\.\d+\.\d+/);

  const p = Bun.spawn([qemu!, out, "serve", "--host", "127.0.0.1", "--port", "0", "--config", join(runDir, "none.json")], { cwd: runDir, env: { PATH: "" }, stdout: "pipe", stderr: "pipe" });
  try {
    const text = await readUntil(p.stdout, /listening on https?:\/\/[^\s]+:(\d+)/, 150_000);
    const port = Number(text.match(/listening on https?:\/\/[^\s]+:(\d+)/)?.[1]);
    expect(port, text).toBeGreaterThan(0);
    const health = await fetch(`https://127.0.0.1:${port}/api/health`, { tls: { rejectUnauthorized: false } } as any);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", version: version.stdout.toString().trim() });
  } finally {
    p.kill("SIGTERM");
    await p.exited;
  }
}, 300_000);

test("build refuses --outfile with several targets (one line, exit 2)", () => {
  const r = Bun.spawnSync([process.execPath, "cli/build.ts", "--target", "bun-linux-arm64,bun-linux-x64-baseline", "--outfile", "/tmp/x"], { cwd: root });
  expect(r.exitCode).toBe(2);
  expect(r.stderr.toString().trim().split("\n")).toHaveLength(1);
});
