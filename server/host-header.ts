// The Host header is client input that ends up in a response header (the CSP's connect-src) and
// in the URL Bun builds for the request. It is accepted only as `hostname[:port]` — DNS name,
// IPv4 address or bracketed IPv6 address, optional port 1–65535 — and rejected otherwise
// (the listener answers 400), so nothing like `x;sandbox` or `a b` can reach a header or a
// route. Decisions the RFCs leave open:
// - `_` is allowed in labels (local names such as docker service names use it), `-` not at a
//   label's edges; a trailing dot (absolute name) is allowed.
// - Two Host headers arrive joined as "a, b" and fail the check, as RFC 9112 §3.2 asks.
// - An empty port ("host:") is rejected.

import { isIPv6 } from "node:net";

const LABEL = /^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$/;
const MAX_HOST = 255;

function validPort(p: string): boolean {
  if (!/^\d{1,5}$/.test(p)) return false;
  const n = Number(p);
  return n >= 1 && n <= 65535;
}

function validHostname(h: string): boolean {
  if (h.length === 0 || h.length > 253 + 1) return false;
  const name = h.endsWith(".") ? h.slice(0, -1) : h;
  if (name.length === 0) return false;
  return name.split(".").every((l) => LABEL.test(l));
}

/** The Host header if it is a well-formed `hostname[:port]`, else null. */
export function validHost(value: string | null): string | null {
  if (value === null || value.length === 0 || value.length > MAX_HOST) return null;
  if (value.startsWith("[")) {
    const end = value.indexOf("]");
    if (end < 0) return null;
    const addr = value.slice(0, end + 1);
    const rest = value.slice(end + 1);
    if (!isIPv6(addr.slice(1, -1))) return null;
    if (rest !== "" && !(rest.startsWith(":") && validPort(rest.slice(1)))) return null;
    return value;
  }
  const colon = value.lastIndexOf(":");
  const host = colon < 0 ? value : value.slice(0, colon);
  if (colon >= 0 && !validPort(value.slice(colon + 1))) return null;
  return validHostname(host) ? value : null;
}
