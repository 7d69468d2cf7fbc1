// What a push subscription's endpoint may point at. A subscription comes from a client, so its
// endpoint URL is attacker-chosen: without these checks the server could be made to POST to
// its own LAN, its loopback services or a cloud metadata address (SSRF).
//
// The rules:
// - https only, default port (443), no user info, no fragment, at most MAX_ENDPOINT_LENGTH
//   characters; the host is a DNS name, never an IP literal.
// - The host matches the allow-list: the known push services (DEFAULT_PUSH_HOSTS) plus the
//   operator's `pushHosts` patterns. "*.example.com" matches any name below example.com (one or
//   more labels), never example.com itself.
// - After DNS resolution every address must be public unicast (address-range.ts); the client
//   then connects to that checked address itself (push-client.ts), so a second, different DNS
//   answer (rebinding) is never used.
//
// Tests need a push service on loopback. That permission is `allowLoopbackForTests` on the
// PushTransport object, which only code can build (the config file has no such field), and
// even then it applies only to host names under ".test" (RFC 6761: reserved, never in public
// DNS) and only to loopback addresses (never 10.x or the like). A production server that set it
// by mistake still could not be pointed at anything but a ".test" name, which no real push
// service or DNS answer carries. `allowAnyPortForTests` lifts the port-443 rule, since test
// servers listen on ephemeral ports; it opens no address.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { isLoopback, specialRange } from "./address-range.ts";

/** The browsers' push services: Chrome/Android (FCM), Safari, Firefox, Edge. */
export const DEFAULT_PUSH_HOSTS: readonly string[] = ["fcm.googleapis.com", "*.push.apple.com", "updates.push.services.mozilla.com", "*.notify.windows.com"];

export const MAX_ENDPOINT_LENGTH = 2048;

/** Where and how the push client may connect; built in code, only `hosts` comes from config. */
export interface PushTransport {
  /** Host patterns beyond DEFAULT_PUSH_HOSTS (the operator's `pushHosts`). */
  hosts?: readonly string[];
  /** Name resolution; the system resolver (getaddrinfo, /etc/hosts included) by default. */
  resolve?: (hostname: string) => Promise<string[]>;
  /** PEM roots to trust instead of the system's (a test push service's CA). */
  ca?: string;
  /** Tests only: loopback addresses for host names under ".test". See above. */
  allowLoopbackForTests?: boolean;
  /** Tests only: endpoints on any port, not just 443. */
  allowAnyPortForTests?: boolean;
  /** Whole request budget: DNS, connect, TLS, request and response (default 10 s). */
  timeoutMs?: number;
  /** Most response bytes read (default 64 KiB); the rest is never read. */
  maxResponseBytes?: number;
}

export type Checked<T> = ({ ok: true } & T) | { ok: false; reason: string };

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** null if `pattern` is a usable host pattern, else why not (for config validation). */
export function hostPatternProblem(pattern: unknown): string | null {
  if (typeof pattern !== "string" || pattern.length === 0 || pattern.length > 253) return "a host pattern is a DNS name such as push.example.com or *.push.example.com";
  const wildcard = pattern.startsWith("*.");
  const name = wildcard ? pattern.slice(2) : pattern;
  if (isIP(name)) return `${pattern}: an IP address is not a push service host; use its DNS name`;
  const labels = name.split(".");
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return `${pattern}: not a lowercase DNS name with at least two labels (e.g. push.example.com)`;
  return null;
}

function matches(host: string, pattern: string): boolean {
  if (pattern.startsWith("*.")) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return host === pattern;
}

export function hostAllowed(host: string, extra: readonly string[] = []): boolean {
  return [...DEFAULT_PUSH_HOSTS, ...extra].some((p) => matches(host, p));
}

function isTestName(host: string): boolean {
  return host.endsWith(".test");
}

/** Syntax and allow-list check of an endpoint URL; no network. */
export function checkEndpointUrl(endpoint: unknown, transport: PushTransport = {}): Checked<{ url: URL; host: string; port: number }> {
  if (typeof endpoint !== "string" || endpoint.length === 0) return { ok: false, reason: "endpoint must be a URL" };
  if (endpoint.length > MAX_ENDPOINT_LENGTH) return { ok: false, reason: `endpoint longer than ${MAX_ENDPOINT_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return { ok: false, reason: "endpoint is not a URL" };
  }
  if (url.protocol !== "https:") return { ok: false, reason: "endpoint must be an https:// URL" };
  if (url.username || url.password) return { ok: false, reason: "endpoint must not carry a user name or password" };
  if (url.hash) return { ok: false, reason: "endpoint must not have a #fragment" };
  const host = url.hostname;
  if (host.startsWith("[") || isIP(host)) return { ok: false, reason: "endpoint host is an IP address, not a push service name" };
  if (host.endsWith(".")) return { ok: false, reason: "endpoint host must not end with a dot" };
  if (!hostAllowed(host, transport.hosts)) return { ok: false, reason: `endpoint host ${host} is not a known push service (add it to pushHosts if it is one)` };
  if (url.port !== "" && transport.allowAnyPortForTests !== true) return { ok: false, reason: "endpoint must use the default https port 443" };
  return { ok: true, url, host, port: url.port === "" ? 443 : Number(url.port) };
}

/** null if the client may connect to `address` for `host`, else why not. */
export function addressProblem(host: string, address: string, transport: PushTransport = {}): string | null {
  const range = specialRange(address);
  if (range === null) return null;
  if (transport.allowLoopbackForTests === true && isTestName(host) && isLoopback(address)) return null;
  return `${host} resolves to a ${range} address`;
}

/** The system resolver: every address getaddrinfo gives, in its order. */
export async function systemResolve(hostname: string): Promise<string[]> {
  return (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);
}

/**
 * Resolves `host` and checks every address it has: one bad address refuses the whole name, since
 * which one a later lookup prefers is not ours to know. Returns the checked addresses to connect to.
 */
export async function resolveChecked(host: string, transport: PushTransport = {}, signal?: AbortSignal): Promise<Checked<{ addresses: string[] }>> {
  let addresses: string[];
  try {
    const lookup = (transport.resolve ?? systemResolve)(host);
    addresses = signal ? await abortable(lookup, signal) : await lookup;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, reason: signal?.aborted ? `DNS lookup of ${host} timed out` : `DNS lookup of ${host} failed${code ? ` (${code})` : ""}` };
  }
  if (!Array.isArray(addresses) || addresses.length === 0) return { ok: false, reason: `DNS lookup of ${host} gave no address` };
  for (const a of addresses) {
    const problem = addressProblem(host, a, transport);
    if (problem) return { ok: false, reason: problem };
  }
  return { ok: true, addresses };
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
