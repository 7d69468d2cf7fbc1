// Does a certificate answer to a host name or address? The same rules a browser applies
// (RFC 6125): IP addresses only against IP SANs, DNS names case-insensitively against DNS SANs,
// a wildcard standing for exactly one leftmost label. The subject CN is ignored, as browsers do.
import { isIP } from "node:net";

export interface Sans {
  dns: string[];
  ip: string[];
}

function canonicalIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  // Expand "::" so 0:0:…:1 and ::1 compare equal.
  const [head, tail = ""] = ip.toLowerCase().split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const parts = ip.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  return parts.map((p) => p.replace(/^0+(?=.)/, "")).join(":");
}

export function certificateCovers(sans: Sans, host: string): boolean {
  const h = host.trim().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "").toLowerCase();
  if (isIP(h) !== 0) return sans.ip.some((ip) => canonicalIp(ip.toLowerCase()) === canonicalIp(h));
  return sans.dns.some((raw) => {
    const name = raw.toLowerCase().replace(/\.$/, "");
    if (name === h) return true;
    if (!name.startsWith("*.")) return false;
    const dot = h.indexOf(".");
    return dot > 0 && h.slice(dot + 1) === name.slice(2);
  });
}
