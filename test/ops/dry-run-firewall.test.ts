// install --dry-run against stub executables on a fake PATH: the firewall is detected through
// read-only probes, the commands that would change it are listed, and none of those run.
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";

const repo = join(import.meta.dirname, "../..");
const bun = join(repo, "node_modules/.bin/bun");
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** Each stub appends its argv to calls.log, prints `out[first matching arg]` and exits with its code. */
async function stubPath(stubs: Record<string, { match: string; out?: string; code?: number }[]>): Promise<{ dir: string; calls: () => string[] }> {
  const dir = await mkdtemp(join(tmpdir(), "voicesrv-stubs-"));
  dirs.push(dir);
  const log = join(dir, "calls.log");
  // Everything install might change is stubbed too, so a slip would be recorded, not executed.
  const all: Record<string, { match: string; out?: string; code?: number }[]> = { systemctl: [{ match: "show", code: 1 }], useradd: [], userdel: [], chown: [], getent: [{ match: "passwd", code: 2 }], ...stubs };
  for (const [name, rules] of Object.entries(all)) {
    const cases = rules.map((r) => `  *"${r.match}"*) printf '%s\\n' ${JSON.stringify(r.out ?? "")}; exit ${r.code ?? 0};;`).join("\n");
    writeFileSync(join(dir, name), `#!/bin/sh\necho "${name} $*" >> "${log}"\ncase "$*" in\n${cases}\nesac\nexit 0\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return { dir, calls: () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter(Boolean) : []) };
}

function dryRun(pathDir: string, extra: string[] = [], host = "0.0.0.0") {
  const r = Bun.spawnSync([bun, "cli/main.ts", "install", "--dry-run", "--binary", "/bin/true", "--port", "22555", "--host", host, ...extra], {
    cwd: repo,
    // /usr/bin and /bin for sh and friends; no sbin, where real firewall tools live. No
    // SSH_CONNECTION, as under sudo (env_reset drops it): the SSH port comes from `sshd -T`.
    env: { ...process.env, PATH: `${pathDir}:/usr/bin:/bin`, NO_COLOR: "1", SSH_CONNECTION: "" },
  });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const READ_ONLY = [/^sshd -T$/, /^ufw status$/, /^firewall-cmd --state$/, /^firewall-cmd --query-port=/, /^nft (-a )?list /, /^systemctl show /, /^getent passwd /];
const isReadOnly = (call: string) => READ_ONLY.some((re) => re.test(call));

const CASES = {
  ufw: {
    stubs: { ufw: [{ match: "status", out: "Status: active\n\nTo Action From\n22/tcp ALLOW Anywhere" }] },
    expected: ["ufw allow 22555/tcp comment voicesrv"],
  },
  firewalld: {
    stubs: { "firewall-cmd": [{ match: "--state", out: "running" }, { match: "--query-port", out: "no", code: 1 }] },
    expected: ["firewall-cmd --add-port=22555/tcp", "firewall-cmd --permanent --add-port=22555/tcp"],
  },
  nftables: {
    stubs: { nft: [{ match: "list chain inet filter input", out: "table inet filter {\n chain input {\n  type filter hook input priority filter; policy drop;\n }\n}" }] },
    expected: [`nft add rule inet filter input tcp dport 22555 accept comment '"voicesrv"'`],
  },
} as const;

describe("install --dry-run with a firewall", () => {
  for (const [name, c] of Object.entries(CASES)) {
    test(`${name}: lists the commands that open the port and runs none of them`, async () => {
      const stubs = await stubPath(c.stubs as never);
      const r = dryRun(stubs.dir);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      for (const cmd of c.expected) expect(r.stdout).toContain(`would run: ${cmd}`);
      const planned = r.stdout.slice(r.stdout.indexOf("and run:"));
      for (const cmd of c.expected) expect(planned).toContain(cmd);
      expect(planned).toContain("systemctl enable --now voicesrv");
      expect(planned).toMatch(/useradd --system .* voicesrv/);
      // The stubs saw only reads: detection ran, nothing that changes the system did.
      const calls = stubs.calls();
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.filter((call) => !isReadOnly(call))).toEqual([]);
      // And no file of the real system was written.
      expect(existsSync("/etc/voicesrv/config.json") && readFileSync("/etc/voicesrv/config.json", "utf8").includes("22555")).toBe(false);
    });
  }

  test("an inactive ufw is left off; --enable-firewall allows SSH (sshd's port from sshd -T) before enabling", async () => {
    const stubs = await stubPath({ ufw: [{ match: "status", out: "Status: inactive" }], sshd: [{ match: "-T", out: "port 2222" }] });
    const off = dryRun(stubs.dir);
    expect(off.code).toBe(0);
    expect(off.stdout).toContain("ufw is installed but not active: left off");
    expect(off.stdout).not.toContain("ufw allow 22555");

    const on = dryRun(stubs.dir, ["--enable-firewall"]);
    expect(on.code).toBe(0);
    const planned = on.stdout.slice(on.stdout.indexOf("and run:"));
    const ssh = planned.indexOf("ufw allow 2222/tcp comment ssh");
    const enable = planned.indexOf("ufw --force enable");
    const open = planned.indexOf("ufw allow 22555/tcp comment voicesrv");
    expect(ssh).toBeGreaterThan(-1);
    expect(enable).toBeGreaterThan(ssh);
    expect(open).toBeGreaterThan(enable);
    expect(stubs.calls().filter((call) => !isReadOnly(call))).toEqual([]);
  });

  test("--enable-firewall refuses when no SSH port can be determined (no sshd -T, no SSH_CONNECTION)", async () => {
    const stubs = await stubPath({ ufw: [{ match: "status", out: "Status: inactive" }], sshd: [{ match: "-T", code: 1 }] });
    const r = dryRun(stubs.dir, ["--enable-firewall"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/cannot tell which port SSH listens on .*refusing to enable the firewall/);
    expect(r.stdout).not.toContain("ufw --force enable");
    expect(r.stdout).not.toContain("ufw allow 22/tcp");
  });

  test("a loopback-only server (tunnel, proxy) gets no firewall opening", async () => {
    const stubs = await stubPath({ ufw: [{ match: "status", out: "Status: active\n\nTo Action From\n22/tcp ALLOW Anywhere" }] });
    const r = dryRun(stubs.dir, [], "127.0.0.1");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("127.0.0.1 is loopback only: no firewall opening needed");
    expect(r.stdout).not.toContain("ufw allow 22555");
  });

  test("prints every file it would write, with modes, and the unit's content", async () => {
    const stubs = await stubPath({});
    const r = dryRun(stubs.dir);
    expect(r.code).toBe(0);
    for (const f of ["/usr/local/bin/voicesrv", "/etc/voicesrv/config.json", "/var/lib/voicesrv/certs/key.pem", "/etc/systemd/system/voicesrv.service", "/etc/systemd/system/voicesrv-cert-renew.timer"]) {
      expect(r.stdout).toContain(`  ${f}\n`);
    }
    expect(r.stdout).toContain("would write: /etc/voicesrv/config.json (mode 0640");
    expect(r.stdout).toContain("| ProtectSystem=strict");
    expect(r.stdout).toContain("no firewall found");
    expect(r.stdout).not.toMatch(/PRIVATE KEY/);
  });

  test("--domain plans the ACME order last, port 80 for the server and network for the renewal timer", async () => {
    const stubs = await stubPath({});
    const r = dryRun(stubs.dir, ["--domain", "voice.example.org", "--email", "me@example.org"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\[\d+\/\d+\] Get a certificate for voice\.example\.org through ACME \(HTTP-01 on port 80\)\n.*would obtain a certificate for voice\.example\.org/);
    // The challenge listener binds port 80 as the service user; the renewal reaches the CA.
    expect(r.stdout).toContain("| AmbientCapabilities=CAP_NET_BIND_SERVICE");
    expect(r.stdout).toContain("| RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6");
    expect(r.stdout).not.toContain("| PrivateNetwork=yes");
    const plain = dryRun(stubs.dir);
    // Without ACME the renewal opens no network socket, but must see the host's addresses.
    expect(plain.stdout).toContain("| RestrictAddressFamilies=AF_UNIX AF_NETLINK\n");
    expect(plain.stdout).not.toContain("through ACME");
  });
});
