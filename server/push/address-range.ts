// Which special-purpose range (RFC 6890 and the IANA special-purpose registries) an IP address
// is in, so the push client only ever connects to public unicast addresses.
//
// Decisions the specs leave open:
// - Anything not plainly public unicast is refused: private, loopback, link-local, CGNAT,
//   multicast, unspecified, documentation, benchmarking, reserved, and on IPv6 everything outside
//   2000::/3 plus the special blocks inside it. A push service has no reason to live there.
// - Addresses that embed an IPv4 address (IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4
//   2002::/16) are judged by the embedded IPv4 address: ::ffff:10.0.0.1 is as private as 10.0.0.1.
// - An IPv6 zone ("fe80::1%eth0") or anything that does not parse is refused as "not an IP address".
import { isIPv4, isIPv6 } from "node:net";

/** The name of the special range `ip` is in, or null for a public unicast address. */
export function specialRange(ip: string): string | null {
  if (isIPv4(ip)) return ipv4Range(parseIPv4(ip));
  if (isIPv6(ip) && !ip.includes("%")) {
    const b = parseIPv6(ip);
    if (b) return ipv6Range(b);
  }
  return "not an IP address";
}

/** True for 127.0.0.0/8 and ::1 — the only addresses a test may be allowed to use. */
export function isLoopback(ip: string): boolean {
  if (isIPv4(ip)) return parseIPv4(ip)[0] === 127;
  if (!isIPv6(ip) || ip.includes("%")) return false;
  const b = parseIPv6(ip);
  return b !== null && b.slice(0, 15).every((x) => x === 0) && b[15] === 1;
}

type V4 = [number, number, number, number];

const V4_RANGES: [V4, number, string][] = [
  [[0, 0, 0, 0], 8, "unspecified (0.0.0.0/8)"],
  [[10, 0, 0, 0], 8, "private (10.0.0.0/8)"],
  [[100, 64, 0, 0], 10, "carrier-grade NAT (100.64.0.0/10)"],
  [[127, 0, 0, 0], 8, "loopback (127.0.0.0/8)"],
  [[169, 254, 0, 0], 16, "link-local (169.254.0.0/16)"],
  [[172, 16, 0, 0], 12, "private (172.16.0.0/12)"],
  [[192, 0, 0, 0], 24, "IETF protocol assignments (192.0.0.0/24)"],
  [[192, 0, 2, 0], 24, "documentation (192.0.2.0/24)"],
  [[192, 88, 99, 0], 24, "6to4 relay anycast (192.88.99.0/24)"],
  [[192, 168, 0, 0], 16, "private (192.168.0.0/16)"],
  [[198, 18, 0, 0], 15, "benchmarking (198.18.0.0/15)"],
  [[198, 51, 100, 0], 24, "documentation (198.51.100.0/24)"],
  [[203, 0, 113, 0], 24, "documentation (203.0.113.0/24)"],
  [[224, 0, 0, 0], 4, "multicast (224.0.0.0/4)"],
  [[240, 0, 0, 0], 4, "reserved (240.0.0.0/4)"],
];

function parseIPv4(ip: string): V4 {
  return ip.split(".").map(Number) as V4;
}

function inPrefix(addr: ArrayLike<number>, net: ArrayLike<number>, bits: number): boolean {
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((addr[i]! & mask) !== (net[i]! & mask)) return false;
  }
  return true;
}

function ipv4Range(a: V4): string | null {
  for (const [net, bits, name] of V4_RANGES) if (inPrefix(a, net, bits)) return name;
  return null;
}

/** 16 bytes of an IPv6 address (node:net has already said it is one), or null. */
function parseIPv6(ip: string): Uint8Array | null {
  let s = ip;
  const out = new Uint8Array(16);
  // A trailing dotted IPv4 part ("::ffff:10.0.0.1") is two 16-bit groups.
  const v4 = s.match(/:(\d+\.\d+\.\d+\.\d+)$/);
  let tail: number[] = [];
  if (v4) {
    if (!isIPv4(v4[1]!)) return null;
    tail = parseIPv4(v4[1]!);
    s = s.slice(0, s.length - v4[1]!.length) + "0:0";
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (h: string) => (h === "" ? [] : h.split(":").map((g) => parseInt(g, 16)));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  const all = [...head, ...new Array<number>(missing).fill(0), ...rest];
  for (let i = 0; i < 8; i++) {
    const g = all[i]!;
    if (!Number.isInteger(g) || g < 0 || g > 0xffff) return null;
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  }
  if (tail.length) out.set(tail, 12);
  return out;
}

const V6_EMBEDDING_V4: [number[], number, number, string][] = [
  // prefix, prefix bits, offset of the embedded IPv4 address, name
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], 96, 12, "IPv4-mapped"],
  [[0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], 96, 12, "NAT64"],
  [[0x20, 0x02], 16, 2, "6to4"],
];

const V6_RANGES: [number[], number, string][] = [
  [[0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48, "local-use NAT64 (64:ff9b:1::/48)"],
  [[0x01, 0x00, 0, 0, 0, 0, 0, 0], 64, "discard-only (100::/64)"],
  [[0x20, 0x01, 0x0d, 0xb8], 32, "documentation (2001:db8::/32)"],
  [[0x20, 0x01, 0x00, 0x00], 23, "IETF protocol assignments (2001::/23)"],
  [[0x3f, 0xff, 0x00], 20, "documentation (3fff::/20)"],
  [[0xfc], 7, "unique local (fc00::/7)"],
  [[0xfe, 0x80], 10, "link-local (fe80::/10)"],
  [[0xfe, 0xc0], 10, "site-local (fec0::/10)"],
  [[0xff], 8, "multicast (ff00::/8)"],
];

function ipv6Range(b: Uint8Array): string | null {
  if (b.every((x) => x === 0)) return "unspecified (::)";
  if (b.slice(0, 15).every((x) => x === 0) && b[15] === 1) return "loopback (::1)";
  for (const [prefix, bits, at, name] of V6_EMBEDDING_V4) {
    if (inPrefix(b, prefix, bits)) {
      const inner = ipv4Range([b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!]);
      return inner ? `${name} ${inner}` : null;
    }
  }
  for (const [prefix, bits, name] of V6_RANGES) if (inPrefix(b, prefix, bits)) return name;
  // Global unicast is 2000::/3; everything else is unassigned or reserved.
  if ((b[0]! & 0xe0) !== 0x20) return "reserved (outside 2000::/3)";
  return null;
}
