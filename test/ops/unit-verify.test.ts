// doctor's unit check on a host without man(1) (issue #12, defect 3): `Documentation=man:…`
// must not turn a healthy unit into a FAIL. Runs the real systemd-analyze with a PATH on which
// man cannot be found, as on a minimal image.
import { mkdtemp, rm, symlink, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { createRunner } from "../../cli/ops/runner.ts";
import { verifyUnit } from "../../cli/ops/unit-verify.ts";

const analyze = Bun.which("systemd-analyze");
const dirs: string[] = [];
const path = process.env.PATH;
afterEach(async () => {
  process.env.PATH = path;
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function unitDir(body: string) {
  const d = await mkdtemp(join(tmpdir(), "voicesrv-verify-"));
  dirs.push(d);
  await mkdir(join(d, "bin"));
  await symlink(analyze!, join(d, "bin", "systemd-analyze"));
  const unit = join(d, "voicesrv-verify-test.service");
  await writeFile(unit, `[Unit]\nDescription=test\nDocumentation=man:systemd.exec(5)\n\n[Service]\n${body}\n\n[Install]\nWantedBy=multi-user.target\n`);
  return { d, unit };
}

// .ci/run installs systemd (systemd-analyze) on CI.
describe.skipIf(!analyze)("verifyUnit", () => {
  test("a healthy unit with Documentation=man: verifies where man is missing", async () => {
    const { d, unit } = await unitDir("ExecStart=/bin/true");
    process.env.PATH = join(d, "bin");
    // The defect as it was: plain verify fails for want of man.
    const plain = Bun.spawnSync([analyze!, "verify", unit], { env: { PATH: join(d, "bin") } });
    expect(plain.exitCode).not.toBe(0);
    expect(await verifyUnit(createRunner("live"), analyze!, unit)).toEqual({ ok: true });
  });

  test("a real fault in the unit still fails, with verify's own words", async () => {
    const { d, unit } = await unitDir("ExecStart=/nonexistent/voicesrv serve");
    process.env.PATH = join(d, "bin");
    const v = await verifyUnit(createRunner("live"), analyze!, unit);
    expect(v.ok).toBe(false);
    expect(v.ok === false && v.detail).toMatch(/nonexistent\/voicesrv/);
  });
});
