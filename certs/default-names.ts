// The names a certificate made on this box must answer to: every address `install` and `serve`
// print (cli/ops/lan-urls.ts lists the same candidates), plus any the operator added with --san.
// Decisions the issue leaves open:
// - LAN addresses are the non-internal IPv4 ones. IPv6 global addresses are left out: with
//   privacy extensions they rotate daily, so a certificate naming them would be stale within a
//   day and `doctor` would complain forever; link-local ones need a zone id no browser URL takes.
// - `<hostname>.local` is added next to the bare hostname: phones resolve mDNS names (iOS always,
//   Android 12+), while the bare name works only where the router's DNS knows it.
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import os from "node:os";
import { join } from "node:path";
import { ensurePrivateDirectory, refuseSymlink, writeFileAtomic, type FileOwner } from "./atomic-write.ts";
import { isValidDnsName } from "./leaf-profile.ts";

export interface SubjectNames {
  hostnames: string[];
  ips: string[];
}

/** File in the certificate directory holding the names given with --san/--hostname, one a line. */
export const EXTRA_NAMES_FILE = "extra-names";

/**
 * The interfaces, or none where they cannot be listed: the service's sandbox
 * (RestrictAddressFamilies without AF_NETLINK) makes getifaddrs fail, and a listing meant for
 * printed URLs must not end the server (found by test/system/systemd.test.ts).
 */
function listInterfaces(): ReturnType<typeof os.networkInterfaces> {
  try {
    return os.networkInterfaces();
  } catch {
    return {};
  }
}

/** Non-internal IPv4 addresses of this box's interfaces, in interface order. */
export function lanAddresses(interfaces: ReturnType<typeof os.networkInterfaces> = listInterfaces()): string[] {
  const out: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) if (!a.internal && a.family === "IPv4" && !out.includes(a.address)) out.push(a.address);
  }
  return out;
}

/** This machine's own DNS names: its hostname and `<hostname>.local`, when the hostname can be a SAN. */
export function machineHostnames(hostname: string = os.hostname()): string[] {
  const own = hostname.trim().toLowerCase().replace(/\.$/, "");
  // A hostname that cannot be a DNS SAN would stop the first start; the addresses still work without it.
  if (own === "" || own === "localhost" || !isValidDnsName(own)) return [];
  const short = own.split(".")[0]!;
  return own.endsWith(".local") ? [own] : [own, `${short}.local`];
}

/**
 * Names a certificate on this box should answer to: loopback for the operator's own browser,
 * the machine's names and LAN addresses for other devices.
 */
export function defaultNames(hostname: string = os.hostname(), addresses: string[] = lanAddresses()): SubjectNames {
  return { hostnames: ["localhost", ...machineHostnames(hostname)], ips: ["127.0.0.1", "::1", ...addresses] };
}

/** Splits names as given on the command line into DNS names and IP addresses ([::1] accepted). */
export function sortNames(names: string[]): SubjectNames {
  const bare = (n: string) => n.trim().replace(/^\[(.*)\]$/, "$1");
  return {
    hostnames: names.filter((n) => isIP(bare(n)) === 0).map((n) => n.trim().toLowerCase()),
    ips: names.filter((n) => isIP(bare(n)) !== 0).map(bare),
  };
}

/** `first` then `then`, each name once (extra names first: the first DNS name becomes the subject). */
export function mergeNames(first: SubjectNames, then: SubjectNames): SubjectNames {
  const uniq = (xs: string[]) => [...new Set(xs)];
  return { hostnames: uniq([...first.hostnames, ...then.hostnames]), ips: uniq([...first.ips, ...then.ips]) };
}

/** The names remembered from --san/--hostname in `certDir`, or none. */
export function readExtraNames(certDir: string): SubjectNames {
  try {
    return sortNames(readFileSync(join(certDir, EXTRA_NAMES_FILE), "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#")));
  } catch {
    return { hostnames: [], ips: [] };
  }
}

/** What a certificate made now in `certDir` covers: the extra names, then this box's own. */
export function namesForCertDir(certDir: string): SubjectNames {
  return mergeNames(readExtraNames(certDir), defaultNames());
}

/** Remembers the --san/--hostname names so renewals and a first start on the target keep them. */
export async function writeExtraNames(certDir: string, names: SubjectNames, owner?: FileOwner): Promise<void> {
  await ensurePrivateDirectory(certDir, owner);
  const file = join(certDir, EXTRA_NAMES_FILE);
  await refuseSymlink(file);
  const body = ["# Names added with --san/--hostname; the machine's own names and addresses are always added.", ...names.hostnames, ...names.ips].join("\n") + "\n";
  await writeFileAtomic(file, body, 0o644, owner);
}
