// The compiled voicesrv binary in a world-readable temporary directory, for tests that run the
// CLI as another user (nobody) or inside another namespace: the checkout itself may sit in a
// 0700 home directory that user cannot enter. Built once per test file; removed by the caller.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const repo = resolve(import.meta.dirname, "../..");

export async function buildWorldReadableBinary(): Promise<{ bin: string; dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "voicesrv-bin-"));
  const bin = join(dir, "voicesrv");
  const p = Bun.spawn([process.execPath, "cli/build.ts", "--outfile", bin], { cwd: repo, stdout: "pipe", stderr: "pipe" });
  const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`cli/build.ts failed: ${stderr}`);
  await chmod(dir, 0o755);
  await chmod(bin, 0o755);
  return { bin, dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
