// The host firewall voicesrv opens its port in: ufw, firewalld or nftables, whichever is active.
// Reads go through runner.probe (they run in --dry-run too); changes through runner.change.
import type { Runner } from "./runner.ts";

export type FirewallName = "ufw" | "firewalld" | "nftables";
const COMMENT = "voicesrv";

export interface Firewall {
  readonly name: FirewallName;
  isActive(): Promise<boolean>;
  hasRule(port: number): Promise<boolean>;
  openCommands(port: number): string[][];
  closeCommands(port: number): Promise<string[][]>;
  /** Allows SSH first so enabling cannot lock the operator out, then turns the firewall on. */
  enableCommands(sshPort: number): string[][];
  /** Said after opening, when the rule will not survive a reboot on its own. */
  readonly persistenceNote?: string;
}

function ufw(run: Runner): Firewall {
  const status = async () => (await run.probe(["ufw", "status"]))?.stdout ?? "";
  return {
    name: "ufw",
    isActive: async () => /^Status: active/m.test(await status()),
    hasRule: async (port) => new RegExp(`^${port}(/tcp)?\\s+(ALLOW|LIMIT)`, "m").test(await status()),
    openCommands: (port) => [["ufw", "allow", `${port}/tcp`, "comment", COMMENT]],
    closeCommands: async (port) => [["ufw", "delete", "allow", `${port}/tcp`]],
    enableCommands: (ssh) => [
      ["ufw", "allow", `${ssh}/tcp`, "comment", "ssh"],
      ["ufw", "--force", "enable"],
    ],
  };
}

function firewalld(run: Runner): Firewall {
  return {
    name: "firewalld",
    isActive: async () => (await run.probe(["firewall-cmd", "--state"]))?.stdout.trim() === "running",
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
      ssh === 22 ? ["firewall-offline-cmd", "--add-service=ssh"] : ["firewall-offline-cmd", `--add-port=${ssh}/tcp`],
      ["systemctl", "enable", "--now", "firewalld"],
    ],
  };
}

function nftables(run: Runner): Firewall {
  const chain = async (handles = false) =>
    (await run.probe(["nft", ...(handles ? ["-a"] : []), "list", "chain", "inet", "filter", "input"])) ?? null;
  return {
    name: "nftables",
    isActive: async () => (await chain())?.code === 0,
    hasRule: async (port) => new RegExp(`tcp dport ${port} .*accept`).test((await chain())?.stdout ?? ""),
    openCommands: (port) => [["nft", "add", "rule", "inet", "filter", "input", "tcp", "dport", String(port), "accept", "comment", `"${COMMENT}"`]],
    async closeCommands() {
      const out = (await chain(true))?.stdout ?? "";
      const handles = [...out.matchAll(new RegExp(`comment "${COMMENT}".*# handle (\\d+)`, "g"))].map((m) => m[1]!);
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
export async function detectFirewall(run: Runner): Promise<{ firewall: Firewall; active: boolean } | null> {
  const candidates: Firewall[] = [];
  if (run.which("ufw")) candidates.push(ufw(run));
  if (run.which("firewall-cmd")) candidates.push(firewalld(run));
  if (run.which("nft")) candidates.push(nftables(run));
  for (const fw of candidates) if (await fw.isActive()) return { firewall: fw, active: true };
  return candidates[0] ? { firewall: candidates[0], active: false } : null;
}

/** The port SSH came in on (so enabling a firewall keeps this very session alive), else 22. */
export function currentSshPort(env: Record<string, string | undefined> = process.env): number {
  const port = Number(env.SSH_CONNECTION?.trim().split(/\s+/)[3]);
  return Number.isInteger(port) && port > 0 ? port : 22;
}
