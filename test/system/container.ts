// A real systemd for the system tests: a Debian minbase root filesystem (debootstrap, cached
// between runs) booted with systemd-nspawn, commands run inside with nsenter.
//
// Decisions:
// - The root filesystem is built once per package list and suite and kept under
//   /var/cache/voicesrv-systemd-test/<hash>/ (override: VOICESRV_SYSTEMD_TEST_CACHE). It is built
//   in a temporary directory and renamed into place, so an interrupted build is never reused.
// - Booted with --volatile=overlay: every change the tests make lands in a tmpfs on top, so the
//   cached tree stays clean and each run starts from the same machine.
// - The mirror and release are the host's own (its apt sources and /etc/os-release): the tests
//   reach no other network, and no registry host is written here.
// - --private-network: the container has only loopback; a test that needs a client on another
//   host joins a veth pair between the container and a network namespace it made itself.
// - Everything is stopped by PID: the container with `systemctl poweroff` inside, then SIGKILL
//   to the nspawn process if it has not exited.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";

export const CONTAINER_PACKAGES = ["systemd", "systemd-sysv", "dbus", "nftables"];
const CACHE_ROOT = process.env.VOICESRV_SYSTEMD_TEST_CACHE ?? "/var/cache/voicesrv-systemd-test";
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The host's Debian release and its main archive from the apt sources. */
export function hostRelease(): { suite: string; mirror: string } {
  const osRelease = readFileSync("/etc/os-release", "utf8");
  const suite = osRelease.match(/^VERSION_CODENAME=(\w+)/m)?.[1];
  if (!suite) throw new Error("cannot tell the Debian release from /etc/os-release (VERSION_CODENAME)");
  const texts: string[] = [];
  for (const f of ["/etc/apt/sources.list", ...listDir("/etc/apt/sources.list.d").map((n) => join("/etc/apt/sources.list.d", n))]) {
    if ((f.endsWith(".list") || f.endsWith(".sources")) && existsSync(f)) texts.push(readFileSync(f, "utf8"));
  }
  const all = texts.join("\n");
  // deb822 stanzas first (URIs: … Suites: <suite> …), then one-line `deb URI suite main`.
  for (const stanza of all.split(/\n\s*\n/)) {
    const uri = stanza.match(/^URIs:\s*(\S+)/m)?.[1];
    const suites = stanza.match(/^Suites:\s*(.+)$/m)?.[1]?.split(/\s+/) ?? [];
    if (uri && suites.includes(suite) && /^Types:.*\bdeb\b/m.test(stanza)) return { suite, mirror: uri };
  }
  const line = all.match(new RegExp(`^deb\\s+(?:\\[[^\\]]*\\]\\s+)?(\\S+)\\s+${suite}\\s`, "m"));
  if (line) return { suite, mirror: line[1]! };
  throw new Error(`no apt source for ${suite} in /etc/apt: debootstrap needs the host's Debian mirror`);
}

function listDir(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

async function exec(argv: string[], opts: { timeoutMs?: number; env?: Record<string, string>; stdin?: string } = {}): Promise<Run> {
  const p = Bun.spawn(argv, { env: opts.env ?? { PATH, LC_ALL: "C" }, stdout: "pipe", stderr: "pipe", stdin: opts.stdin !== undefined ? new Blob([opts.stdin]) : "ignore" });
  const timer = setTimeout(() => p.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** The cached root filesystem, built with debootstrap when missing. */
export async function ensureRootfs(log: (s: string) => void = () => {}): Promise<string> {
  const { suite, mirror } = hostRelease();
  const key = createHash("sha256").update(JSON.stringify({ suite, mirror, packages: CONTAINER_PACKAGES, v: 1 })).digest("hex").slice(0, 16);
  const dir = join(CACHE_ROOT, `${suite}-${key}`);
  const rootfs = join(dir, "rootfs");
  if (existsSync(join(rootfs, "usr/lib/systemd/systemd"))) return rootfs;
  if (!Bun.which("debootstrap", { PATH })) throw new Error("debootstrap is missing: apt-get install -y debootstrap systemd-container (.ci/run does this)");
  await mkdir(dir, { recursive: true });
  // Left by an interrupted run (its process is gone): never reused, only removed.
  for (const name of listDir(dir)) {
    const pid = Number(name.match(/^rootfs\.tmp-(\d+)$/)?.[1]);
    if (pid && !existsSync(`/proc/${pid}`)) await rm(join(dir, name), { recursive: true, force: true });
  }
  const tmp = join(dir, `rootfs.tmp-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  log(`debootstrap ${suite} into ${tmp}`);
  const r = await exec(["debootstrap", "--variant=minbase", `--include=${CONTAINER_PACKAGES.join(",")}`, suite, tmp, mirror], { timeoutMs: 15 * 60_000 });
  if (r.code !== 0) {
    await rm(tmp, { recursive: true, force: true });
    throw new Error(`debootstrap failed (${r.code}): ${(r.stderr || r.stdout).trim().split("\n").slice(-5).join("\n")}`);
  }
  // Another run may have finished first: keep theirs.
  if (existsSync(rootfs)) await rm(tmp, { recursive: true, force: true });
  else await rename(tmp, rootfs);
  return rootfs;
}

export interface Container {
  /** PID (in our namespace) of the container's systemd. */
  readonly pid: number;
  readonly nspawnPid: number;
  /** Runs a shell command inside, as root, with a clean environment. */
  sh(cmd: string, opts?: { timeoutMs?: number; stdin?: string }): Promise<Run>;
  /** Runs a command in the container's network namespace only (host tools, e.g. ip, nft). */
  net(argv: string[]): Promise<Run>;
  stop(): Promise<void>;
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const t of listDir(`/proc/${pid}/task`)) {
    try {
      out.push(...readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      // thread gone
    }
  }
  return out;
}

/** Boots rootfs; `binds` are host directories mounted read-only inside (host path → inside path). */
export async function bootContainer(rootfs: string, binds: Record<string, string>): Promise<Container> {
  const name = `voicesrv-test-${process.pid}`;
  const nspawn = Bun.spawn(
    ["systemd-nspawn", "-D", rootfs, "--volatile=overlay", "-b", "--register=no", "--keep-unit", "--private-network", "--console=passive", "-M", name, ...Object.entries(binds).map(([h, c]) => `--bind-ro=${h}:${c}`)],
    { env: { PATH, LC_ALL: "C" }, stdout: "pipe", stderr: "pipe" },
  );
  const bootLog = Promise.all([new Response(nspawn.stdout).text(), new Response(nspawn.stderr).text()]).then(([a, b]) => a + b);
  let pid = 0;
  const end = Date.now() + 30_000;
  while (!pid && Date.now() < end && nspawn.exitCode === null) {
    // The container's init is the nspawn child (or grandchild) running systemd.
    const queue = childrenOf(nspawn.pid);
    while (queue.length && !pid) {
      const c = queue.shift()!;
      const comm = (() => {
        try {
          return readFileSync(`/proc/${c}/comm`, "utf8").trim();
        } catch {
          return "";
        }
      })();
      if (comm === "systemd") pid = c;
      else queue.push(...childrenOf(c));
    }
    if (!pid) await Bun.sleep(50);
  }
  const kill = async () => {
    if (nspawn.exitCode === null) nspawn.kill("SIGKILL");
    await nspawn.exited;
  };
  if (!pid) {
    await kill();
    throw new Error(`the container did not boot: ${await bootLog}`);
  }
  // setsid: a command inside that signals its process group (`kill 0`) must not reach the tests.
  const enter = (argv: string[], opts: { timeoutMs?: number; stdin?: string } = {}) =>
    exec(["setsid", "--wait", "nsenter", "-t", String(pid), "-a", "env", "-i", `PATH=${PATH}`, "HOME=/root", "LC_ALL=C", "NO_COLOR=1", "TERM=dumb", "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0", ...argv], opts);
  const c: Container = {
    pid,
    nspawnPid: nspawn.pid,
    sh: (cmd, opts) => enter(["/bin/sh", "-c", cmd], opts),
    net: (argv) => exec(["nsenter", `--net=/proc/${pid}/ns/net`, ...argv]),
    async stop() {
      if (nspawn.exitCode === null) {
        await enter(["systemctl", "poweroff", "--no-block"], { timeoutMs: 10_000 }).catch(() => undefined);
        const until = Date.now() + 20_000;
        while (nspawn.exitCode === null && Date.now() < until) await Bun.sleep(100);
      }
      await kill();
    },
  };
  // Until systemd has set up its private socket inside, systemctl cannot connect at all; on a
  // loaded machine it may also answer "offline" for a moment before the manager is up.
  let ready = await c.sh("systemctl is-system-running --wait", { timeoutMs: 90_000 });
  const bootEnd = Date.now() + 90_000;
  while (/Failed to connect to bus|No such file|^offline/m.test(ready.stderr + ready.stdout) && Date.now() < bootEnd && nspawn.exitCode === null) {
    await Bun.sleep(200);
    ready = await c.sh("systemctl is-system-running --wait", { timeoutMs: 90_000 });
  }
  // "degraded" is a unit of the minimal image failing (no console, say); voicesrv's own state
  // is asserted by the tests.
  if (!/running|degraded/.test(ready.stdout)) {
    await c.stop();
    throw new Error(`systemd in the container did not come up: ${ready.stdout}${ready.stderr}`);
  }
  return c;
}

/**
 * A client on "another host": a network namespace (held by a sleep this returns) joined to the
 * container by a veth pair. Container 10.213.0.1, client 10.213.0.2. Both ends leave the host
 * namespace at once, and vanish with the namespaces.
 */
export async function clientNetwork(c: Container): Promise<{ holderPid: number; connect(port: number, timeoutS?: number): Promise<"open" | "refused" | "dropped">; stop(): Promise<void> }> {
  const holder = Bun.spawn(["unshare", "--net", "sleep", "3600"], { env: { PATH }, stdout: "ignore", stderr: "ignore" });
  for (let i = 0; i < 200 && (await Bun.file(`/proc/${holder.pid}/comm`).text().catch(() => "")).trim() !== "sleep"; i++) await Bun.sleep(10);
  const tag = String(process.pid % 100000);
  const host = `vsh${tag}`;
  const peer = `vsc${tag}`;
  const steps: string[][] = [
    ["ip", "link", "add", host, "type", "veth", "peer", "name", peer],
    ["ip", "link", "set", peer, "netns", String(c.pid)],
    ["ip", "link", "set", host, "netns", String(holder.pid)],
  ];
  for (const s of steps) {
    const r = await exec(s);
    if (r.code !== 0) throw new Error(`${s.join(" ")}: ${r.stderr}`);
  }
  const inClient = (argv: string[], timeoutMs?: number) => exec(["nsenter", `--net=/proc/${holder.pid}/ns/net`, ...argv], { timeoutMs });
  for (const s of [["ip", "addr", "add", "10.213.0.2/24", "dev", host], ["ip", "link", "set", host, "up"], ["ip", "link", "set", "lo", "up"]]) await inClient(s);
  for (const s of [["ip", "addr", "add", "10.213.0.1/24", "dev", peer], ["ip", "link", "set", peer, "up"]]) await c.net(s);
  return {
    holderPid: holder.pid,
    /** open: connected; refused: RST (nothing listens, firewall passed it); dropped: no answer. */
    async connect(port, timeoutS = 3) {
      const r = await inClient(["timeout", String(timeoutS), "bash", "-c", `exec 3<>/dev/tcp/10.213.0.1/${port}`], (timeoutS + 5) * 1000);
      return r.code === 0 ? "open" : r.code === 124 ? "dropped" : "refused";
    },
    async stop() {
      holder.kill("SIGKILL");
      await holder.exited;
    },
  };
}
