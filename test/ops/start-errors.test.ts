// Start-up failures the operator must be able to act on: a full disk names the file that could
// not be written (issue #13). The disk is a real, tiny tmpfs filled to the brim, mounted in a
// mount namespace the test makes itself (unshare: root, or an unprivileged user namespace).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";

const repo = join(import.meta.dirname, "../..");
const bun = join(repo, "node_modules/.bin/bun");
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

test("ENOSPC while creating the certificate: one line naming the file, exit 1, no stack", async () => {
  const mnt = await mkdtemp(join(tmpdir(), "voicesrv-full-"));
  cleanups.push(() => rm(mnt, { recursive: true, force: true }));
  const data = join(mnt, "data");
  // Fill the 64 KiB tmpfs, but leave the data directory (directories take no data blocks).
  const script = `mount -t tmpfs -o size=64k tmpfs "$1" && mkdir "$1/data" && (dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null; true) && exec "$2" cli/main.ts serve --host 127.0.0.1 --port 0 --data-dir "$1/data" --config /nonexistent`;
  const p = Bun.spawn(["unshare", "-Urm", "sh", "-c", script, "sh", mnt, bun], { cwd: repo, env: { ...process.env, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  expect(stdout).not.toMatch(/listening/);
  expect(code).toBe(1);
  const lines = stderr.trim().split("\n");
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^voicesrv: cannot create the self-signed certificate in .*data\/certs: cannot write .*data\/certs\/(key|cert)\.pem: ENOSPC/);
  expect(stderr).not.toMatch(/\n\s+at /);
});
