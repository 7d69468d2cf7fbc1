// install/uninstall into a staging root, run as the real CLI in a subprocess.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { inspectCertificate } from "../../certs/index.ts";

const repo = join(import.meta.dirname, "../..");
const bun = join(repo, "node_modules/.bin/bun");
const roots: string[] = [];

afterEach(async () => {
  await Promise.all(roots.splice(0).map((r) => rm(r, { recursive: true, force: true })));
});

async function tempRoot(): Promise<string> {
  const r = await mkdtemp(join(tmpdir(), "voicesrv-root-"));
  roots.push(r);
  return r;
}

function cli(args: string[]) {
  // No firewall or systemd tools on PATH beyond the basics: --root must not need any.
  const r = Bun.spawnSync([bun, "cli/main.ts", ...args], { cwd: repo, env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** Every path under root with its mode and a hash of its content (directories: "dir"). */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = statSync(p);
      const mode = (st.mode & 0o777).toString(8);
      if (st.isDirectory()) {
        out["/" + relative(root, p)] = `dir ${mode}`;
        walk(p);
      } else out["/" + relative(root, p)] = `${mode} ${createHash("sha256").update(readFileSync(p)).digest("hex").slice(0, 16)}`;
    }
  };
  walk(root);
  return out;
}

describe("install --root", () => {
  test("writes the binary, config, certificate and units with their modes", async () => {
    const root = await tempRoot();
    const binary = join(root, "..", `fake-voicesrv-${process.pid}`);
    await writeFile(binary, "#!/bin/sh\necho fake\n", { mode: 0o755 });
    try {
      const r = cli(["install", "--root", root, "--binary", binary, "--port", "22443", "--host", "0.0.0.0"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/\[1\/10\]/);

      const mode = (p: string) => (statSync(join(root, p)).mode & 0o777).toString(8);
      expect(mode("usr/local/bin/voicesrv")).toBe("755");
      expect(readFileSync(join(root, "usr/local/bin/voicesrv"), "utf8")).toBe("#!/bin/sh\necho fake\n");
      expect(mode("var/lib/voicesrv")).toBe("750");
      expect(mode("etc/voicesrv/config.json")).toBe("640");
      expect(JSON.parse(readFileSync(join(root, "etc/voicesrv/config.json"), "utf8"))).toEqual({ port: 22443, host: "0.0.0.0", dataDir: "/var/lib/voicesrv" });
      // No private key (and so no certificate) in a tree that may be packaged for many machines.
      expect(existsSync(join(root, "var/lib/voicesrv/certs/key.pem"))).toBe(false);
      expect(existsSync(join(root, "var/lib/voicesrv/certs/cert.pem"))).toBe(false);
      expect(r.stdout).toContain("no key staged: the certificate is made on the target at its first start");
      const unit = readFileSync(join(root, "etc/systemd/system/voicesrv.service"), "utf8");
      expect(unit).toContain("ExecStart=/usr/local/bin/voicesrv serve --config /etc/voicesrv/config.json");
      expect(unit).toContain("ReadWritePaths=/var/lib/voicesrv");
      expect(unit).toContain("Environment=HOME=/var/lib/voicesrv NODE_ENV=production");
      expect(unit).toMatch(/^CapabilityBoundingSet=$/m);
      expect(unit).toMatch(/^PrivateUsers=yes$/m);
      expect(unit).not.toMatch(/^MemoryDenyWriteExecute/m);
      expect(unit).toMatch(/^# MemoryDenyWriteExecute=yes is deliberately absent: Bun's JavaScriptCore JIT/m);
      const renew = readFileSync(join(root, "etc/systemd/system/voicesrv-cert-renew.service"), "utf8");
      expect(renew).toContain("ExecStart=/usr/local/bin/voicesrv cert renew --if-expiring-within 30 --config /etc/voicesrv/config.json");
      expect(readFileSync(join(root, "etc/systemd/system/voicesrv-cert-renew.timer"), "utf8")).toMatch(/^OnCalendar=daily$/m);
    } finally {
      await rm(binary, { force: true });
    }
  });

  test("--groups writes the server's group policy to the config and says which mode it set", async () => {
    const root = await tempRoot();
    const r = cli(["install", "--root", root, "--binary", "/bin/true", "--groups", "operator"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(root, "etc/voicesrv/config.json"), "utf8")).groups).toBe("operator");
    expect(r.stdout).toContain("Groups: operator — only groups made with `voicesrv group create`");
    // A later install without the flag keeps the mode and says so.
    const again = cli(["install", "--root", root, "--binary", "/bin/true"]);
    expect(again.stdout).toContain("Groups: operator");
    const bad = cli(["install", "--root", root, "--binary", "/bin/true", "--groups", "everyone"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('voicesrv: --groups must be one of open, private, operator, got "everyone"');
  });

  test("--push-subject turns ringing closed apps on in the config; a localhost contact is refused", async () => {
    const root = await tempRoot();
    const off = cli(["install", "--root", root, "--binary", "/bin/true"]);
    expect(off.stdout).toContain("Ringing closed apps: off — add --push-subject");
    const r = cli(["install", "--root", root, "--binary", "/bin/true", "--push-subject", "mailto:ops@example.org"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(root, "etc/voicesrv/config.json"), "utf8")).pushSubject).toBe("mailto:ops@example.org");
    expect(r.stdout).toContain("Ringing closed apps: on (push contact mailto:ops@example.org).");
    const bad = cli(["install", "--root", root, "--binary", "/bin/true", "--push-subject", "https://localhost"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^voicesrv: --push-subject: .*localhost/);
  });

  test("running twice changes nothing: same files, same certificate; the config is kept", async () => {
    const root = await tempRoot();
    const first = cli(["install", "--root", root, "--binary", "/bin/true", "--port", "22001"]);
    expect(first.code).toBe(0);
    const before = snapshot(root);
    // No --port now: the installed config's port is kept, not reset to the default.
    const second = cli(["install", "--root", root, "--binary", "/bin/true"]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("already up to date");
    expect(second.stdout).toContain("no key staged");
    expect(snapshot(root)).toEqual(before);
    expect(JSON.parse(readFileSync(join(root, "etc/voicesrv/config.json"), "utf8")).port).toBe(22001);
  });

  test("re-installing a new binary replaces it in place and keeps the config", async () => {
    const root = await tempRoot();
    expect(cli(["install", "--root", root, "--binary", "/bin/true"]).code).toBe(0);
    const configBefore = readFileSync(join(root, "etc/voicesrv/config.json"), "utf8");
    const r = cli(["install", "--root", root, "--binary", "/bin/false"]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(root, "usr/local/bin/voicesrv"))).toEqual(readFileSync("/bin/false"));
    expect(readFileSync(join(root, "etc/voicesrv/config.json"), "utf8")).toBe(configBefore);
    // The rollback copy is gone once install succeeded.
    expect(existsSync(join(root, "usr/local/bin/voicesrv.previous"))).toBe(false);
  });

  test("stages no private key anywhere; --san names are remembered and added to the target's own names at first start", async () => {
    const root = await tempRoot();
    const r = cli(["install", "--root", root, "--binary", "/bin/true", "--san", "voice.home.arpa,192.0.2.44"]);
    expect(r.code).toBe(0);
    const files = Object.keys(snapshot(root)).filter((p) => !snapshot(root)[p]!.startsWith("dir"));
    for (const f of files) expect(readFileSync(join(root, f), "utf8")).not.toMatch(/PRIVATE KEY/);
    const certDir = join(root, "var/lib/voicesrv/certs");
    expect(readFileSync(join(certDir, "extra-names"), "utf8")).toMatch(/^voice\.home\.arpa\n192\.0\.2\.44\n$/m);
    // What the service does at its first start on the target: make the key there, for every name.
    const { ensureCertificate, defaultNames } = await import("../../certs/index.ts");
    await ensureCertificate(certDir);
    expect(statSync(join(certDir, "key.pem")).mode & 0o777).toBe(0o600);
    const cert = inspectCertificate(readFileSync(join(certDir, "cert.pem"), "utf8"));
    const own = defaultNames();
    expect(cert.sans.dns).toEqual(["voice.home.arpa", ...own.hostnames]);
    expect(cert.sans.ip).toEqual(["192.0.2.44", ...own.ips]);
  });

  test("--domain needs the real machine, not a staging root", async () => {
    const root = await tempRoot();
    const r = cli(["install", "--root", root, "--binary", "/bin/true", "--domain", "voice.example.org"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^voicesrv: --domain needs the machine itself: .*sudo voicesrv cert acme --domain voice\.example\.org/);
    expect(readdirSync(root)).toEqual([]);
  });

  test("a port below 1024 gets CAP_NET_BIND_SERVICE and nothing else", async () => {
    const root = await tempRoot();
    expect(cli(["install", "--root", root, "--binary", "/bin/true", "--port", "443"]).code).toBe(0);
    const unit = readFileSync(join(root, "etc/systemd/system/voicesrv.service"), "utf8");
    expect(unit).toMatch(/^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$/m);
    expect(unit).toMatch(/^AmbientCapabilities=CAP_NET_BIND_SERVICE$/m);
    expect(unit).not.toMatch(/^PrivateUsers=yes$/m);
  });

  test("uninstall removes exactly what install added; --purge removes the rest", async () => {
    const root = await tempRoot();
    expect(cli(["install", "--root", root, "--binary", "/bin/true"]).code).toBe(0);
    const installed = snapshot(root);
    const u = cli(["uninstall", "--root", root]);
    expect(u.code).toBe(0);
    const left = snapshot(root);
    // Kept: state and config, untouched.
    for (const [p, v] of Object.entries(left)) expect(installed[p]).toBe(v);
    const programFiles = (p: string) => p.startsWith("/usr") || p.startsWith("/etc/systemd");
    expect(Object.keys(left).sort()).toEqual(Object.keys(installed).filter((p) => !programFiles(p)).sort());
    expect(left["/usr/local/bin/voicesrv"]).toBeUndefined();
    expect(left["/etc/systemd/system/voicesrv.service"]).toBeUndefined();

    const p = cli(["uninstall", "--root", root, "--purge"]);
    expect(p.code).toBe(0);
    expect(readdirSync(root)).toEqual([]);
  });

  test("a failing step names itself and what to do, and rolls back the steps before it", async () => {
    const root = await tempRoot();
    // A file where the units directory belongs makes step 7 fail after six steps did work.
    await Bun.write(join(root, "etc/systemd"), "in the way\n");
    const before = snapshot(root);
    const r = cli(["install", "--root", root, "--binary", "/bin/true"]);
    expect(r.code).toBe(1);
    const err = r.stderr.trim();
    expect(err.split("\n")).toHaveLength(1);
    expect(err).toMatch(/^voicesrv: step 7 "Write the systemd units \(service, certificate renewal timer\)" failed: .*\. To fix: check \/etc\/systemd\/system is writable\. Earlier steps were rolled back; the system is as it was\.$/);
    expect(r.stdout).toContain("undone: Install the binary");
    expect(snapshot(root)).toEqual(before);
  });

  test("from source without --binary it refuses with one line naming the fix", () => {
    const r = cli(["install", "--root", "/tmp/never-created-voicesrv-root"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("build the binary first: npm run build");
    expect(existsSync("/tmp/never-created-voicesrv-root")).toBe(false);
  });

  test("mistakes are one readable line and a non-zero exit", () => {
    for (const args of [["install", "--port", "99999", "--dry-run"], ["install", "--root", "/tmp/x", "--dry-run"], ["install", "--root", "/"]]) {
      const r = cli(args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/^voicesrv: /);
    }
  });

  test("every command has --help with an example", () => {
    for (const cmd of [["install"], ["uninstall"], ["status"], ["doctor"], ["logs"], ["cert"], ["cert", "show"], ["cert", "renew"], ["cert", "import"], ["cert", "ca"], ["cert", "acme"]]) {
      const r = cli([...cmd, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Examples?:\n  (sudo )?(\.\/)?voicesrv /);
    }
    // Eleven CLI start-ups in a row: generous, since other work may share the machine.
  }, 120_000);
});
