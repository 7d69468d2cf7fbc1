// The host firewall voicesrv opens its port in: ufw, firewalld or nftables, whichever is active.
// Reads go through runner.probe (they run in --dry-run too); changes through runner.change.
import { INSTALL_PATHS } from "./install-paths.ts";
import type { Runner } from "./runner.ts";

export type FirewallName = "ufw" | "firewalld" | "nftables";
const COMMENT = "voicesrv";

export interface Firewall {
  readonly name: FirewallName;
  /** null: cannot tell — reading the rules needs root (status run as a plain user). */
  isActive(): Promise<boolean | null>;
  hasRule(port: number): Promise<boolean>;
  openCommands(port: number): string[][];
  closeCommands(port: number): Promise<string[][]>;
  /** Allows SSH first so enabling cannot lock the operator out, then turns the firewall on. */
  enableCommands(sshPorts: number[]): string[][];
  /** Said after opening, when the rule will not survive a reboot on its own. */
  readonly persistenceNote?: string;
}

/** A read refused for want of privileges: says nothing about the firewall itself. */
function denied(r: { code: number; stdout: string; stderr: string } | null): boolean {
  return r !== null && r.code !== 0 && /not permitted|permission denied|need to be root|authoriz/i.test(r.stderr + r.stdout);
}

function ufw(run: Runner): Firewall {
  const status = async () => (await run.probe(["ufw", "status"]))?.stdout ?? "";
  return {
    name: "ufw",
    async isActive() {
      const r = await run.probe(["ufw", "status"]);
      if (denied(r)) return null;
      return /^Status: active/m.test(r?.stdout ?? "");
    },
    hasRule: async (port) => new RegExp(`^${port}(/tcp)?\\s+(ALLOW|LIMIT)`, "m").test(await status()),
    openCommands: (port) => [["ufw", "allow", `${port}/tcp`, "comment", COMMENT]],
    closeCommands: async (port) => [["ufw", "delete", "allow", `${port}/tcp`]],
    enableCommands: (ssh) => [...ssh.map((p) => ["ufw", "allow", `${p}/tcp`, "comment", "ssh"]), ["ufw", "--force", "enable"]],
  };
}

function firewalld(run: Runner): Firewall {
  return {
    name: "firewalld",
    async isActive() {
      const r = await run.probe(["firewall-cmd", "--state"]);
      if (denied(r)) return null;
      return r?.stdout.trim() === "running";
    },
    hasRule: async (port) => (await run.probe(["firewall-cmd", `--query-port=${port}/tcp`]))?.code === 0,
    // Runtime and permanent both: the port opens now and survives a reboot, without a reload.
    openCommands: (port) => [
      ["firewall-cmd", `--add-port=${port}/tcp`],
      ["firewall-cmd", "--permanent", `--add-port=${port}/tcp`],
    ],
    closeCommands: async (port) => [
      ["firewall-cmd", `--remove-port=${port}/tcp`],
      ["firewall-cmd", "--permanent", `--remove-port=${port}/tcp`],
    ],
    enableCommands: (ssh) => [
      ...ssh.map((p) => (p === 22 ? ["firewall-offline-cmd", "--add-service=ssh"] : ["firewall-offline-cmd", `--add-port=${p}/tcp`])),
      ["systemctl", "enable", "--now", "firewalld"],
    ],
  };
}

function nftables(run: Runner): Firewall {
  const chain = async (handles = false) =>
    (await run.probe(["nft", ...(handles ? ["-a"] : []), "list", "chain", "inet", "filter", "input"])) ?? null;
  return {
    name: "nftables",
    async isActive() {
      const r = await chain();
      if (denied(r)) return null;
      return r?.code === 0;
    },
    hasRule: async (port) => new RegExp(`tcp dport ${port} .*accept`).test((await chain())?.stdout ?? ""),
    openCommands: (port) => [["nft", "add", "rule", "inet", "filter", "input", "tcp", "dport", String(port), "accept", "comment", `"${COMMENT}"`]],
    async closeCommands(port) {
      const out = (await chain(true))?.stdout ?? "";
      // Only this port's voicesrv rule: another recorded port keeps its own.
      const handles = [...out.matchAll(new RegExp(`tcp dport ${port} .*comment "${COMMENT}".*# handle (\\d+)`, "g"))].map((m) => m[1]!);
      return handles.map((h) => ["nft", "delete", "rule", "inet", "filter", "input", "handle", h]);
    },
    enableCommands() {
      throw new Error(
        "nftables has no `inet filter input` chain, and voicesrv will not write a whole ruleset for you: add one to /etc/nftables.conf (allowing SSH first), run `systemctl enable --now nftables`, then install again",
      );
    },
    persistenceNote: "nftables rules added with `nft` are lost at reboot: add the same rule to /etc/nftables.conf",
  };
}

/**
 * The firewall to use: the first active one, else the first installed one (inactive), else null.
 * Several can be installed (ufw drives nftables underneath), so the active front-end wins.
 */
export async function detectFirewall(run: Runner): Promise<{ firewall: Firewall; active: boolean; undetermined?: boolean } | null> {
  const candidates: Firewall[] = [];
  if (run.which("ufw")) candidates.push(ufw(run));
  if (run.which("firewall-cmd")) candidates.push(firewalld(run));
  if (run.which("nft")) candidates.push(nftables(run));
  let unknown: Firewall | null = null;
  for (const fw of candidates) {
    const active = await fw.isActive();
    if (active) return { firewall: fw, active: true };
    if (active === null) unknown ??= fw;
  }
  // Not root: "inactive" would be a guess (issue #12, defect 4); say it could not be read.
  if (unknown) return { firewall: unknown, active: false, undetermined: true };
  return candidates[0] ? { firewall: candidates[0], active: false } : null;
}

/**
 * The ports sshd listens on, so enabling a firewall cannot lock the operator out. `sshd -T`
 * (the effective config) first: sudo's env_reset drops SSH_CONNECTION, and sshd may listen on
 * several ports. This session's port (SSH_CONNECTION) is the fallback. Throws when neither
 * says anything: guessing 22 would cut off a host whose sshd listens elsewhere.
 */
export async function sshPorts(run: Runner, env: Record<string, string | undefined> = process.env): Promise<number[]> {
  const sshd = run.which("sshd") ? "sshd" : "/usr/sbin/sshd";
  const r = await run.probe([sshd, "-T"]);
  const ports = new Set<number>();
  if (r?.code === 0) for (const m of r.stdout.matchAll(/^port (\d+)\s*$/gim)) ports.add(Number(m[1]));
  const session = Number(env.SSH_CONNECTION?.trim().split(/\s+/)[3]);
  if (Number.isInteger(session) && session > 0) ports.add(session);
  if (ports.size === 0) {
    throw new Error("cannot tell which port SSH listens on (`sshd -T` gave no port, no SSH_CONNECTION): refusing to enable the firewall; allow SSH in it yourself and enable it, then install again");
  }
  return [...ports];
}

/** Loopback-only bind addresses: nothing outside reaches them, so no firewall opening. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || host.startsWith("127.");
}

/** Ports install opened itself, one a line; uninstall closes only these. */
export const FIREWALL_RECORD = `${INSTALL_PATHS.stateDir}/.firewall-ports`;

export function readFirewallRecord(content: string | null): number[] {
  return (content ?? "").split(/\s+/).map(Number).filter((n) => Number.isInteger(n) && n > 0 && n < 65536);
}
