// The generated units pass systemd's own checks: `systemd-analyze verify` and the offline
// security review. systemd-analyze is required (.ci/run installs the systemd package).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const repo = join(import.meta.dirname, "../..");
const bun = join(repo, "node_modules/.bin/bun");
const ANALYZE = Bun.which("systemd-analyze") ?? (existsSync("/usr/bin/systemd-analyze") ? "/usr/bin/systemd-analyze" : null);
const UNITS = ["voicesrv.service", "voicesrv-cert-renew.service", "voicesrv-cert-renew.timer"];
const MAX_EXPOSURE = 2.0;

function requireAnalyze(): string {
  if (!ANALYZE) throw new Error("systemd-analyze is missing: install the systemd package (apt-get install -y systemd; .ci/run does this)");
  return ANALYZE;
}

function analyze(args: string[], cwd: string) {
  const r = Bun.spawnSync([requireAnalyze(), ...args], { cwd, env: { ...process.env, SYSTEMD_LOG_COLOR: "0", NO_COLOR: "1" } });
  return { code: r.exitCode, out: r.stdout.toString() + r.stderr.toString() };
}

function exposure(out: string): number {
  const m = out.match(/Overall exposure level for \S+: (\d+(?:\.\d+)?)/);
  if (!m) throw new Error(`no "Overall exposure level" line in:\n${out}`);
  return Number(m[1]);
}

// The third: a box with an ACME certificate (its settings already in the data dir), whose units
// give the server port 80 and the renewal service the network.
for (const { port, acme } of [{ port: 22000, acme: false }, { port: 443, acme: false }, { port: 22000, acme: true }]) {
  describe(`systemd units for port ${port}${acme ? " with ACME" : ""}`, () => {
    let root: string;
    let verifyDir: string;

    beforeAll(async () => {
      requireAnalyze();
      root = await mkdtemp(join(tmpdir(), "voicesrv-unit-root-"));
      verifyDir = await mkdtemp(join(tmpdir(), "voicesrv-unit-verify-"));
      if (acme) {
        mkdirSync(join(root, "var/lib/voicesrv/certs/acme"), { recursive: true });
        writeFileSync(join(root, "var/lib/voicesrv/certs/acme/settings.json"), JSON.stringify({ domain: "voice.example.org", directoryUrl: "https://acme.example/dir", challengePort: 80, failures: 0 }));
      }
      const r = Bun.spawnSync([bun, "cli/main.ts", "install", "--root", root, "--binary", "/bin/true", "--port", String(port)], { cwd: repo });
      if (r.exitCode !== 0) throw new Error(r.stderr.toString());
      // verify resolves ExecStart on this machine, where /usr/local/bin/voicesrv does not exist:
      // point the rendered units at the staged copy, change nothing else.
      for (const u of UNITS) {
        const text = readFileSync(join(root, "etc/systemd/system", u), "utf8").replaceAll("/usr/local/bin/voicesrv", join(root, "usr/local/bin/voicesrv"));
        writeFileSync(join(verifyDir, u), text);
      }
    });

    afterAll(async () => {
      await rm(root, { recursive: true, force: true });
      await rm(verifyDir, { recursive: true, force: true });
    });

    test("systemd-analyze verify accepts all three units", () => {
      const r = analyze(["verify", ...UNITS.map((u) => join(verifyDir, u))], verifyDir);
      expect(r.out).toBe("");
      expect(r.code).toBe(0);
    });

    test(`the server's exposure level is at most ${MAX_EXPOSURE}`, () => {
      const r = analyze(["security", "--offline=true", join(verifyDir, "voicesrv.service")], verifyDir);
      const level = exposure(r.out);
      console.log(`systemd-analyze security: voicesrv.service (port ${port}${acme ? ", ACME" : ""}) exposure ${level}`);
      expect(level).toBeLessThanOrEqual(MAX_EXPOSURE);
    });

    test(`the renewal service's exposure level is at most ${MAX_EXPOSURE}`, () => {
      const r = analyze(["security", "--offline=true", join(verifyDir, "voicesrv-cert-renew.service")], verifyDir);
      const level = exposure(r.out);
      if (acme) console.log(`systemd-analyze security: voicesrv-cert-renew.service (ACME) exposure ${level}`);
      expect(level).toBeLessThanOrEqual(MAX_EXPOSURE);
      const unit = readFileSync(join(verifyDir, "voicesrv-cert-renew.service"), "utf8");
      // The renewal sees the host's addresses (a renewed certificate names them), and reaches the
      // network only for ACME.
      expect(/^PrivateNetwork=yes$/m.test(unit)).toBe(false);
      expect(/^RestrictAddressFamilies=AF_UNIX AF_NETLINK( AF_INET AF_INET6)?$/m.exec(unit)?.[1] !== undefined).toBe(acme);
      expect(/^AmbientCapabilities=CAP_NET_BIND_SERVICE$/m.test(readFileSync(join(verifyDir, "voicesrv.service"), "utf8"))).toBe(acme || port < 1024);
    });
  });
}
