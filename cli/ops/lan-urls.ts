// The addresses people can open, printed by install and serve. Each is checked against the
// certificate the server uses: a URL it does not cover would greet a phone with a name-mismatch
// error, so it is never listed as one to open, only named in a warning with the fix.
// Candidates for a wildcard bind: names the certificate itself carries (an ACME domain, --san
// names), the machine's name and `<name>.local`, its LAN addresses, then localhost.
import { certificateCovers, lanAddresses, machineHostnames, type CertInfo } from "../../certs/index.ts";

export function candidateHosts(host: string, cert: CertInfo | null): string[] {
  const wildcard = host === "0.0.0.0" || host === "::";
  if (!wildcard) return [host.includes(":") ? `[${host}]` : host];
  const own = [...machineHostnames(), ...lanAddresses()];
  // Names only the certificate knows (not wildcards, not this machine's own) are how outsiders reach it.
  const extra = (cert?.sans.dns ?? []).filter((n) => !n.startsWith("*.") && n !== "localhost" && !own.includes(n));
  const extraIps = (cert?.sans.ip ?? []).filter((ip) => !ip.startsWith("127.") && ip !== "::1" && !own.includes(ip));
  return [...new Set([...extra, ...own, ...extraIps.map((ip) => (ip.includes(":") ? `[${ip}]` : ip)), "localhost"])];
}

export interface OpenUrls {
  /** URLs the certificate covers (all of them without TLS). */
  covered: string[];
  /** URLs this server answers on that the certificate does not cover. */
  uncovered: string[];
}

export function openUrls(host: string, port: number, cert: CertInfo | null, scheme = cert ? "https" : "http"): OpenUrls {
  const out: OpenUrls = { covered: [], uncovered: [] };
  for (const h of candidateHosts(host, cert)) {
    const defaultPort = (scheme === "https" && port === 443) || (scheme === "http" && port === 80);
    const url = `${scheme}://${h}${defaultPort ? "" : `:${port}`}`;
    if (!cert || certificateCovers(cert.sans, h)) out.covered.push(url);
    else out.uncovered.push(url);
  }
  return out;
}

/** How to get a certificate that covers the missing URLs, by who made the certificate. */
export function coverageFix(kind: string): string {
  if (kind === "self-signed" || kind === "ca") return "`sudo voicesrv cert renew` adds this machine's current names and addresses";
  if (kind === "acme") return "open the domain name instead: a public certificate cannot name LAN addresses";
  return "get a certificate that names them and `voicesrv cert import` it";
}

/** The warning for URLs the certificate misses, or null when it covers them all. */
export function uncoveredWarning(urls: OpenUrls, kind: string): string | null {
  if (!urls.uncovered.length) return null;
  return `the certificate does not cover ${urls.uncovered.join(", ")}: a phone opening ${urls.uncovered.length > 1 ? "them" : "it"} gets a name-mismatch error — ${coverageFix(kind)}`;
}

/**
 * What install says before the URLs. No example group name: a guessable public name such as
 * /family is exactly what the README advises against, so it points to a private group.
 */
export const OPEN_URLS_HINT = "Open on a phone or laptop, then create a private group in the app (or with `sudo voicesrv group create <name>`) and send its invite link:";

/** The block install prints: the URLs to open, then a warning for any the certificate misses. */
export function openUrlLines(urls: OpenUrls, kind: string): string[] {
  const lines = urls.covered.map((u) => `  ${u}/`);
  const warning = uncoveredWarning(urls, kind);
  if (warning) lines.push(`warning: ${warning}`);
  return lines;
}
