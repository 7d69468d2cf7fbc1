// Which server do status and doctor look at? Run from any directory, they must find the server
// that actually runs (issue #12) rather than assume ./data:
//   1. what the caller named (--config, --data-dir, VOICESRV_CONFIG / VOICESRV_DATA_DIR);
//   2. the installed service (systemd knows voicesrv.service): the installed config;
//   3. a `voicesrv serve` started by hand, found in /proc: its own arguments, environment and
//      working directory give its config, exactly as it resolved them;
//   4. the installed config file, if any; else the defaults (./data).
// The answer says how the server was started, so advice can fit (systemctl or voicesrv reload).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { certPaths, configFromEnv, configFromFile, ConfigError, INSTALLED_CONFIG_FILE, INSTALLED_DATA_DIR, resolveConfig, type PartialConfig, type ServerConfig } from "../../server/config.ts";
import { CliError } from "../cli-error.ts";
import { configFor, type ConfigFlags } from "./config-flags.ts";
import { isVoicesrvProcess } from "./pid-file.ts";
import type { Runner } from "./runner.ts";
import { serviceState, type ServiceState } from "./service-state.ts";
import { existsSync } from "node:fs";

export type FoundConfig = ServerConfig & { certDir: string; certFile: string; keyFile: string; managed: boolean };

export interface Located {
  config: FoundConfig;
  /** How the server runs (or would): advice depends on it. */
  how: "named" | "systemd" | "by-hand" | "installed-config" | "default";
  pid: number | null;
  service: ServiceState;
  /** Other hand-started servers seen, when more than one runs. */
  others: number[];
}

function withPaths(config: ServerConfig): FoundConfig {
  const paths = certPaths(config);
  return { ...config, certDir: `${config.dataDir}/certs`, ...paths };
}

function sameNamespaces(pid: number): boolean {
  try {
    // A server in a container or another mount namespace sees other files and another network:
    // its paths and ports mean nothing here.
    return ["pid", "mnt", "net"].every((ns) => readlinkSync(`/proc/${pid}/ns/${ns}`) === readlinkSync(`/proc/self/ns/${ns}`));
  } catch {
    return false;
  }
}

/** `serve` processes of this machine that we may look at (all of them as root). */
export function handStartedServers(exclude: number[] = []): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  return entries
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => pid !== process.pid && !exclude.includes(pid) && isVoicesrvProcess(pid) && sameNamespaces(pid));
}

const VALUE_FLAGS: Record<string, keyof ServeArgs> = { "-p": "port", "--port": "port", "-H": "host", "--host": "host", "-d": "dataDir", "--data-dir": "dataDir", "-c": "config", "--config": "config", "--cert": "cert", "--key": "key", "--trust-proxy": "trustProxy" };
interface ServeArgs {
  port?: string;
  host?: string;
  dataDir?: string;
  config?: string;
  cert?: string;
  key?: string;
  trustProxy?: string;
  http?: boolean;
}

/** The serve flags in a process's argv (the forms commander accepts: `--x v`, `--x=v`, `-xv`). */
export function parseServeArgs(argv: string[]): ServeArgs {
  const out: ServeArgs = {};
  const at = argv.indexOf("serve");
  const args = at >= 0 ? argv.slice(at + 1) : [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--http") out.http = true;
    const eq = a.indexOf("=");
    const name = eq > 0 && a.startsWith("--") ? a.slice(0, eq) : /^-[a-zA-Z].+/.test(a) && !a.startsWith("--") ? a.slice(0, 2) : a;
    const key = VALUE_FLAGS[name];
    if (!key) continue;
    const inline = eq > 0 && a.startsWith("--") ? a.slice(eq + 1) : name !== a ? a.slice(2) : undefined;
    const v = inline ?? args[++i];
    if (v !== undefined) (out as Record<string, unknown>)[key] = v;
  }
  return out;
}

/** The config a hand-started server resolved, from its /proc entry; null if it cannot be read. */
export function configOfProcess(pid: number): ServerConfig | null {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    const cwd = readlinkSync(`/proc/${pid}/cwd`);
    const env = Object.fromEntries(
      readFileSync(`/proc/${pid}/environ`, "utf8")
        .split("\0")
        .filter((kv) => kv.startsWith("VOICESRV_"))
        .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
    );
    const a = parseServeArgs(argv);
    const abs = (p: string | undefined) => (p === undefined ? undefined : isAbsolute(p) ? p : resolve(cwd, p));
    const rel = (c: PartialConfig): PartialConfig => ({ ...c, dataDir: abs(c.dataDir), certFile: abs(c.certFile), keyFile: abs(c.keyFile) });
    const file = rel(configFromFile(abs(a.config ?? env.VOICESRV_CONFIG) ?? INSTALLED_CONFIG_FILE));
    const installedBinary = argv[0] === "/usr/local/bin/voicesrv" && existsSync(INSTALLED_DATA_DIR);
    const flags: PartialConfig = { port: a.port !== undefined ? Number(a.port) : undefined, host: a.host, dataDir: abs(a.dataDir), certFile: abs(a.cert), keyFile: abs(a.key), http: a.http, trustProxy: a.trustProxy as ServerConfig["trustProxy"] | undefined };
    return resolveConfig([{ dataDir: installedBinary ? INSTALLED_DATA_DIR : join(cwd, "data") }, file, rel(configFromEnv(env)), flags]);
  } catch {
    // Another user's process (not root), or it exited meanwhile.
    return null;
  }
}

export async function locateServer(flags: ConfigFlags, run: Runner): Promise<Located> {
  const service = await serviceState(run);
  const named = Boolean(flags.config || flags.dataDir || process.env.VOICESRV_CONFIG || process.env.VOICESRV_DATA_DIR);
  const own = (f: ConfigFlags = flags): FoundConfig => {
    try {
      return configFor(f);
    } catch (e) {
      if (e instanceof ConfigError) throw new CliError(e.message, 2);
      throw e;
    }
  };
  if (named) return { config: own(), how: "named", pid: service.active ? service.pid : null, service, others: [] };
  if (service.known) {
    // An installed unit without its config still runs with the installed data directory.
    const c = existsSync(INSTALLED_CONFIG_FILE) ? own() : own({ ...flags, dataDir: INSTALLED_DATA_DIR });
    return { config: c, how: "systemd", pid: service.pid, service, others: [] };
  }
  const hand = handStartedServers();
  for (const pid of hand) {
    const found = configOfProcess(pid);
    if (!found) continue;
    // Flags given here (--port/--host) still win over what was read.
    // Port 0 (pick any): the kernel's choice is in /proc/net/tcp.
    const port = flags.port !== undefined ? Number(flags.port) : found.port === 0 ? (listeningPorts(pid)[0] ?? 0) : found.port;
    const merged = { ...found, port, host: flags.host ?? found.host };
    return { config: withPaths(merged), how: "by-hand", pid, service, others: hand.filter((p) => p !== pid) };
  }
  return { config: own(), how: existsSync(INSTALLED_CONFIG_FILE) ? "installed-config" : "default", pid: null, service, others: [] };
}

/** How to make this server re-read its certificate, in words that fit how it runs. */
export function reloadAdvice(l: Pick<Located, "how" | "pid" | "service">): string {
  if (l.service.active) return "sudo systemctl reload voicesrv";
  if (l.pid) return `voicesrv reload --pid ${l.pid}`;
  return "voicesrv reload";
}

/** TCP ports `pid` listens on, from its socket descriptors and /proc/net/tcp{,6}. */
export function listeningPorts(pid: number): number[] {
  try {
    const inodes = new Set(
      readdirSync(`/proc/${pid}/fd`)
        .map((fd) => {
          try {
            return readlinkSync(`/proc/${pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/)?.[1];
          } catch {
            return undefined;
          }
        })
        .filter((x): x is string => Boolean(x)),
    );
    const ports = new Set<number>();
    for (const table of ["tcp", "tcp6"]) {
      let text = "";
      try {
        text = readFileSync(`/proc/${pid}/net/${table}`, "utf8");
      } catch {
        continue;
      }
      for (const line of text.split("\n").slice(1)) {
        const f = line.trim().split(/\s+/);
        // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; inode is field 9.
        if (f[3] === "0A" && inodes.has(f[9]!)) ports.add(parseInt(f[1]!.split(":")[1]!, 16));
      }
    }
    return [...ports];
  } catch {
    return [];
  }
}
