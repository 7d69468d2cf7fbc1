// Operations on a real systemd (issue #12): the freshly built binary installed into a booted
// Debian container (test/system/container.ts), through install → status → cert renew →
// restart+reload race → kill -9 → upgrade → no-op re-install → failed install (rollback) →
// --port move → missing firewall rule → uninstall --purge, each outcome asserted. Firewall
// openings are checked from a client in a second network namespace.
//
// Needs root (namespaces, nspawn); skipped only when not root. CI runs as root and .ci/run
// installs systemd-container and debootstrap. Run it alone:
//   sudo npx bun --bun vitest run test/system/systemd.test.ts
// The first run debootstraps the container (~2 min) into /var/cache/voicesrv-systemd-test.
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { bootContainer, clientNetwork, ensureRootfs, type Container } from "./container.ts";

const repo = resolve(import.meta.dirname, "../..");
const asRoot = process.getuid?.() === 0;
const VS = "/usr/local/bin/voicesrv";

let c: Container;
let client: Awaited<ReturnType<typeof clientNetwork>>;
let work = "";
const started = Date.now();

async function build(out: string, label?: string) {
  const p = Bun.spawn([process.execPath, "cli/build.ts", "--outfile", out, ...(label ? ["--build-label", label] : [])], { cwd: repo, stdout: "pipe", stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`build failed: ${err}`);
}

async function json(cmd: string) {
  const r = await c.sh(cmd);
  try {
    return { ...r, j: JSON.parse(r.stdout) };
  } catch {
    throw new Error(`not JSON from \`${cmd}\` (exit ${r.code}): ${r.stdout}${r.stderr}`);
  }
}

const mainPid = async () => Number((await c.sh("systemctl show -P MainPID voicesrv")).stdout.trim());
const nRestarts = async () => Number((await c.sh("systemctl show -P NRestarts voicesrv")).stdout.trim());
const isActive = async () => (await c.sh("systemctl is-active voicesrv")).stdout.trim();

async function until<T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  let v = await f();
  while (!ok(v) && Date.now() < end) {
    await Bun.sleep(200);
    v = await f();
  }
  if (!ok(v)) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(v)}`);
  return v;
}

describe.skipIf(!asRoot)("voicesrv on a real systemd (nspawn container)", () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "voicesrv-systemd-"));
    await chmod(work, 0o755);
    // allSettled: a failure must not leave a build writing into `work` after afterAll removed it.
    const settled = await Promise.allSettled([ensureRootfs((s) => console.log(`systemd suite: ${s}`)), build(join(work, "voicesrv")), build(join(work, "voicesrv-upgrade"), "upgrade")]);
    for (const r of settled) if (r.status === "rejected") throw r.reason;
    const rootfs = (settled[0] as PromiseFulfilledResult<string>).value;
    // A binary that cannot serve: the upgrade to it must fail its health check and roll back.
    await writeFile(join(work, "voicesrv-broken"), "#!/bin/sh\necho 'broken build' >&2\nexit 3\n", { mode: 0o755 });
    c = await bootContainer(rootfs, { [work]: "/opt/vs" });
    // A firewall that drops what it does not allow, as on a real server.
    const conf = 'flush ruleset\ntable inet filter {\n  chain input {\n    type filter hook input priority filter; policy drop;\n    iif "lo" accept\n  }\n}\n';
    const fw = await c.sh("cat > /etc/nftables.conf && systemctl enable --now nftables.service", { stdin: conf });
    expect(fw.code, fw.stderr).toBe(0);
    client = await clientNetwork(c);
  }, 20 * 60_000);

  afterAll(async () => {
    await client?.stop();
    await c?.stop();
    if (work) await rm(work, { recursive: true, force: true });
    console.log(`systemd suite: ${Math.round((Date.now() - started) / 1000)} s including build and boot`);
  }, 60_000);

  test("install: hardened service running, config root:voicesrv 0640, port opened in nftables", async () => {
    expect(await client.connect(22000)).toBe("dropped");
    const r = await c.sh("cd /tmp && /opt/vs/voicesrv install");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("voicesrv is installed and running.");
    expect(r.stdout).toMatch(/nftables: opened 22000\/tcp/);
    expect(await isActive()).toBe("active");
    expect((await c.sh("stat -c '%U:%G %a' /etc/voicesrv/config.json")).stdout.trim()).toBe("root:voicesrv 640");
    const sec = await c.sh("systemd-analyze security voicesrv --no-pager");
    const exposure = Number(sec.stdout.match(/Overall exposure level for voicesrv\.service: (\d+(?:\.\d+)?)/)?.[1]);
    console.log(`systemd suite: systemd-analyze security exposure ${exposure}`);
    expect(exposure).toBeLessThanOrEqual(2.0);
    expect(await client.connect(22000)).toBe("open");
  }, 120_000);

  test("status and doctor, from any directory, as root and as a plain user", async () => {
    const s = await json(`cd /tmp && ${VS} status --json`);
    expect(s.code).toBe(0);
    expect(s.j).toMatchObject({ state: "healthy", service: { manager: "systemd", active: true, enabled: true }, firewall: { name: "nftables", active: true, rulePresent: true }, problems: [] });
    // A minimal image has no man(1): Documentation=man:… must not fail the unit check.
    expect((await c.sh("command -v man")).code).not.toBe(0);
    const d = await json(`cd / && ${VS} doctor --json`);
    expect(d.j.checks.find((x: { name: string }) => x.name === "systemd unit")).toMatchObject({ level: "ok" });
    expect(d.j.checks.find((x: { name: string }) => x.name === "server").detail).toMatch(/installed service/);
    expect(d.j.ok).toBe(true);
    expect(d.code).toBe(0);
    // Not root: cannot read the key or the rules; says so instead of "inactive" or "degraded".
    const plain = await json(`cd /tmp && setpriv --reuid=65534 --regid=65534 --clear-groups ${VS} status --json`);
    expect(plain.j.firewall).toMatchObject({ name: "nftables", active: null });
    expect(plain.j.state).toBe("healthy");
    expect(plain.j.notes.join("\n")).toMatch(/run with sudo/);
  }, 60_000);

  test("cert renew: the running server switches certificate without a restart; the timer's service runs", async () => {
    const before = (await json(`${VS} status --json`)).j.certificate.fingerprint256;
    const pid = await mainPid();
    const r = await c.sh(`${VS} cert renew`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/sent SIGHUP to voicesrv \(PID \d+, via systemd\)/);
    const after = await until("the new certificate served", async () => (await json(`${VS} status --json`)).j, (j) => j.state === "healthy" && j.certificate.fingerprint256 !== before);
    expect(after.certificate.fingerprint256).not.toBe(before);
    expect(await mainPid()).toBe(pid);
    const timer = await c.sh("systemctl start voicesrv-cert-renew.service && systemctl show -P Result voicesrv-cert-renew.service");
    expect(timer.code, timer.stderr).toBe(0);
    expect(timer.stdout.trim()).toBe("success");
    expect((await c.sh("systemctl is-active voicesrv-cert-renew.timer")).stdout.trim()).toBe("active");
  }, 60_000);

  test("restart then reload within milliseconds never kills the server", async () => {
    const restarts = await nRestarts();
    for (let i = 0; i < 3; i++) {
      const r = await c.sh("systemctl restart voicesrv; systemctl reload voicesrv");
      expect(r.code, r.stderr).toBe(0);
      await Bun.sleep(700);
      expect(await isActive()).toBe("active");
    }
    // No crash in between (a restart by Restart= would count here), and the server is healthy.
    expect(await nRestarts()).toBe(restarts);
    const s = await until("healthy after the reloads", async () => (await json(`${VS} status --json`)).j, (j) => j.state === "healthy");
    expect(s.service.active).toBe(true);
    const log = await c.sh("journalctl -u voicesrv --no-pager -o cat");
    expect(log.stdout).toMatch(/SIGHUP: reloading the certificate/);
    expect(log.stdout).not.toMatch(/Failed to locate executable/);
  }, 60_000);

  test("kill -9: Restart=on-failure brings it back", async () => {
    const pid = await mainPid();
    const restarts = await nRestarts();
    // `kill -9 0` would signal the whole process group: only ever a real main PID.
    expect(pid).toBeGreaterThan(1);
    expect((await c.sh(`kill -9 ${pid}`)).code).toBe(0);
    await until("a new main PID", async () => ({ pid: await mainPid(), active: await isActive() }), (v) => v.active === "active" && v.pid !== pid && v.pid > 0);
    expect(await nRestarts()).toBe(restarts + 1);
    await until("healthy after the crash", async () => (await json(`${VS} status --json`)).j, (j) => j.state === "healthy");
  }, 60_000);

  test("upgrade with a different binary: says how many calls a restart ends, then serves the new version", async () => {
    const r = await c.sh("/opt/vs/voicesrv install --binary /opt/vs/voicesrv-upgrade");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/0 calls in progress: nothing is interrupted/);
    expect(r.stdout).toContain("voicesrv is upgraded and restarted.");
    const s = await json(`${VS} status --json`);
    expect(s.j.version).toBe("0.1.0+upgrade");
    expect((await c.sh(`${VS} --version`)).stdout.trim()).toBe("0.1.0+upgrade");
  }, 120_000);

  test("a re-install that changes nothing says so and does not restart", async () => {
    const pid = await mainPid();
    const r = await c.sh(`${VS} install --binary /opt/vs/voicesrv-upgrade`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/upgraded/);
    expect(r.stdout).toMatch(/nothing changed/);
    expect(await mainPid()).toBe(pid);
  }, 120_000);

  test("a failed install rolls back: old binary and config (owner and mode too), service healthy", async () => {
    const sum = async () => (await c.sh(`sha256sum ${VS}`)).stdout.split(" ")[0];
    const binBefore = await sum();
    const cfgBefore = (await c.sh("cat /etc/voicesrv/config.json")).stdout;
    // A new --port rewrites config.json; the broken binary never answers; everything goes back.
    const r = await c.sh("/opt/vs/voicesrv install --binary /opt/vs/voicesrv-broken --port 22001", { timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    // Reported as soon as systemd sees the new binary exit, not after the 30 s health timeout.
    expect(r.stderr).toMatch(/voicesrv\.service exited \(status 3\)/);
    expect(r.stderr).toMatch(/the system is as it was/);
    expect(await sum()).toBe(binBefore);
    expect((await c.sh("cat /etc/voicesrv/config.json")).stdout).toBe(cfgBefore);
    expect((await c.sh("stat -c '%U:%G %a' /etc/voicesrv/config.json")).stdout.trim()).toBe("root:voicesrv 640");
    const s = await until("healthy after rollback", async () => (await json(`${VS} status --json`)).j, (j) => j.state === "healthy", 30_000);
    expect(s.version).toBe("0.1.0+upgrade");
    expect(await client.connect(22000)).toBe("open");
    expect(await client.connect(22001)).toBe("dropped");
  }, 180_000);

  test("install --port moves the opening: the new port opens, the old one is closed again", async () => {
    const r = await c.sh(`${VS} install --port 22001`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/closed the old port 22000\/tcp/);
    expect(await client.connect(22001)).toBe("open");
    // Dropped by the firewall, not merely refused because nothing listens any more.
    expect(await client.connect(22000)).toBe("dropped");
    expect((await c.sh("cat /var/lib/voicesrv/.firewall-ports")).stdout.trim()).toBe("22001");
  }, 120_000);

  test("a missing firewall rule makes status degraded (exit 1); install puts it back", async () => {
    const list = await c.sh("nft -a list chain inet filter input");
    const handle = list.stdout.match(/tcp dport 22001 .*# handle (\d+)/)?.[1];
    expect(handle).toBeDefined();
    expect((await c.sh(`nft delete rule inet filter input handle ${handle}`)).code).toBe(0);
    const s = await json(`${VS} status --json`);
    expect(s.j.state).toBe("degraded");
    expect(s.code).toBe(1);
    expect(s.j.problems.join("\n")).toMatch(/nftables has no rule for 22001\/tcp/);
    const r = await c.sh(`${VS} install`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("its firewall opening is restored");
    expect((await json(`${VS} status --json`)).code).toBe(0);
    expect(await client.connect(22001)).toBe("open");
  }, 120_000);

  test("uninstall --purge: service, files, user and the firewall opening are gone", async () => {
    const r = await c.sh(`${VS} uninstall --purge`);
    expect(r.code, r.stderr).toBe(0);
    expect(await client.connect(22001)).toBe("dropped");
    expect((await c.sh("systemctl show -P LoadState voicesrv")).stdout.trim()).toBe("not-found");
    for (const p of [VS, "/etc/voicesrv", "/var/lib/voicesrv", "/etc/systemd/system/voicesrv.service", "/etc/systemd/system/voicesrv-cert-renew.timer"]) {
      expect((await c.sh(`test -e ${p}`)).code, p).not.toBe(0);
    }
    expect((await c.sh("getent passwd voicesrv")).code).not.toBe(0);
    expect((await c.sh("nft list ruleset")).stdout).not.toContain("voicesrv");
  }, 120_000);
});
