// Root-run `voicesrv cert …` and `serve` against a data dir the service user (or whoever owns
// it) can write: links planted there must not redirect root's writes or chowns. Every attack
// here succeeded before the fixes. This machine's tests run as root, so ownership is observable.
import { chownSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { generateSelfSigned, writeCertificatePair } from "../../certs/index.ts";
import { isVoicesrvProcess, readLivePid, writePidFile } from "../../cli/ops/pid-file.ts";
import { createTarget } from "../../cli/ops/target.ts";

// Lets one test make /proc/<pid>/cmdline unreadable (as under ProtectProc) for pid-file.ts.
const hiddenCmdline = vi.hoisted(() => ({ pid: 0 }));
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const readFileSync = ((p: unknown, ...rest: unknown[]) => {
    if (hiddenCmdline.pid && p === `/proc/${hiddenCmdline.pid}/cmdline`) throw Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" });
    return (fs.readFileSync as (...a: unknown[]) => unknown)(p, ...rest);
  }) as typeof fs.readFileSync;
  return { ...fs, default: { ...fs, readFileSync }, readFileSync };
});

const repo = join(import.meta.dirname, "../..");
const bun = join(repo, "node_modules/.bin/bun");
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "voicesrv-symlink-"));
  writeFileSync(join(root, "cfg.json"), "{}\n");
});
afterEach(async () => {
  hiddenCmdline.pid = 0;
  await rm(root, { recursive: true, force: true });
});

function cli(args: string[]) {
  const r = Bun.spawnSync([bun, "cli/main.ts", ...args, "--config", join(root, "cfg.json"), "--no-reload"], { cwd: repo, env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** data/certs with an installed self-signed pair and kind marker, as the server leaves it. */
async function installedCertDir(kind = "self-signed"): Promise<{ dataDir: string; certDir: string }> {
  const dataDir = join(root, "data");
  const certDir = join(dataDir, "certs");
  const pair = await generateSelfSigned({ hostnames: ["voice.lan"], ips: [] });
  await writeCertificatePair(certDir, pair.certPem, pair.keyPem);
  writeFileSync(join(certDir, "kind"), kind + "\n", { mode: 0o600 });
  return { dataDir, certDir };
}

function victimFile(): string {
  const victim = join(root, "victim");
  writeFileSync(victim, "secret\n", { mode: 0o600 });
  return victim;
}

describe.skipIf(!asRoot)("root `cert renew` in a data dir the service user controls", () => {
  test("a planted certs/ca -> victim is not chowned to the certs dir's owner", async () => {
    const { dataDir, certDir } = await installedCertDir();
    const victim = victimFile();
    symlinkSync(victim, join(certDir, "ca"));
    for (const p of [dataDir, certDir, join(certDir, "cert.pem"), join(certDir, "key.pem"), join(certDir, "kind")]) chownSync(p, NOBODY, NOBODY);

    const r = cli(["cert", "renew", "--data-dir", dataDir]);
    const st = statSync(victim);
    expect({ uid: st.uid, gid: st.gid, content: readFileSync(victim, "utf8") }).toEqual({ uid: 0, gid: 0, content: "secret\n" });
    // nobody is neither root nor the service user: root refuses to give it a key at all.
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/neither root nor voicesrv: refusing/);
    expect(lstatSync(join(certDir, "ca")).isSymbolicLink()).toBe(true);
  }, 30_000);

  test("a private-CA renewal refuses a planted certs/ca -> elsewhere and writes no CA key there", async () => {
    const { dataDir, certDir } = await installedCertDir("ca");
    const victimDir = join(root, "victimdir");
    mkdirSync(victimDir);
    symlinkSync(victimDir, join(certDir, "ca"));

    const r = cli(["cert", "renew", "--data-dir", dataDir]);
    expect(readdirSync(victimDir)).toEqual([]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/certs\/ca is a symbolic link: refusing/);
  }, 30_000);

  test("a certs -> victimdir symlink is refused with a clear error; nothing is written through it", async () => {
    const dataDir = join(root, "data");
    const victimDir = join(root, "victimdir");
    mkdirSync(dataDir);
    mkdirSync(victimDir);
    symlinkSync(victimDir, join(dataDir, "certs"));

    for (const args of [["cert", "renew"], ["cert", "ca"]]) {
      const r = cli([...args, "--data-dir", dataDir]);
      expect(readdirSync(victimDir), args.join(" ")).toEqual([]);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/certs is a symbolic link: refusing/);
    }
  }, 60_000);

  test("files written as root go to the certs dir's owner through their descriptors, nothing else is chowned", async () => {
    const certDir = join(root, "certs");
    mkdirSync(certDir, { mode: 0o700 });
    const victim = victimFile();
    symlinkSync(victim, join(certDir, "ca"));
    const pair = await generateSelfSigned({ hostnames: ["voice.lan"], ips: [] });
    await writeCertificatePair(certDir, pair.certPem, pair.keyPem, { uid: NOBODY, gid: NOBODY });
    expect(statSync(join(certDir, "key.pem")).uid).toBe(NOBODY);
    expect(statSync(join(certDir, "cert.pem")).uid).toBe(NOBODY);
    expect(statSync(victim).uid).toBe(0);
  });
});

describe("library writes refuse a symlinked certificate directory (any user)", () => {
  test("writeCertificatePair into certs -> victimdir", async () => {
    const victimDir = join(root, "victimdir");
    mkdirSync(victimDir);
    symlinkSync(victimDir, join(root, "certs"));
    const pair = await generateSelfSigned({ hostnames: ["voice.lan"], ips: [] });
    await expect(writeCertificatePair(join(root, "certs"), pair.certPem, pair.keyPem)).rejects.toThrow(/is a symbolic link/);
    expect(readdirSync(victimDir)).toEqual([]);
  });
});

describe("PID file", () => {
  test("a planted voicesrv.pid -> victim is replaced, not written through", () => {
    const dataDir = join(root, "data");
    mkdirSync(dataDir);
    const victim = victimFile();
    symlinkSync(victim, join(dataDir, "voicesrv.pid"));
    writePidFile(dataDir);
    expect(readFileSync(victim, "utf8")).toBe("secret\n");
    expect(lstatSync(join(dataDir, "voicesrv.pid")).isFile()).toBe(true);
    expect(readFileSync(join(dataDir, "voicesrv.pid"), "utf8")).toBe(`${process.pid}\n`);
    expect(readdirSync(dataDir)).toEqual(["voicesrv.pid"]);
  });

  test("an unreadable /proc/<pid>/cmdline means not voicesrv: the process is never signalled", () => {
    const dataDir = join(root, "data");
    mkdirSync(dataDir);
    // A live process (this one) whose command line cannot be checked.
    writeFileSync(join(dataDir, "voicesrv.pid"), `${process.pid}\n`);
    hiddenCmdline.pid = process.pid;
    expect(isVoicesrvProcess(process.pid)).toBe(false);
    expect(readLivePid(dataDir)).toBeNull();
  });
});

describe("install target copy", () => {
  test("a temp name planted as a link to a victim is not written through", async () => {
    const victim = victimFile();
    const src = join(root, "binary");
    writeFileSync(src, "new binary\n");
    const staging = join(root, "stage");
    mkdirSync(join(staging, "usr/local/bin"), { recursive: true });
    // The old temp name was `${dest}.${pid}.new`, guessable by anyone who can see the PID.
    symlinkSync(victim, join(staging, `usr/local/bin/voicesrv.${process.pid}.new`));
    await createTarget("live", staging, () => {}).copy("/usr/local/bin/voicesrv", src, 0o755);
    expect(readFileSync(victim, "utf8")).toBe("secret\n");
    expect(readFileSync(join(staging, "usr/local/bin/voicesrv"), "utf8")).toBe("new binary\n");
  });
});
