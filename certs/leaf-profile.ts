import { isIP } from "node:net";
import { CertificateError } from "./errors.ts";
import { x509 } from "./x509.ts";

const DAY_MS = 86_400_000;
/** Clients reject server certificates valid for longer (Apple: 398 days; we stay one below). */
export const MAX_SERVER_DAYS = 397;
/** Backdating covers clients whose clocks run a little behind the server's. */
export const CLOCK_SKEW_MS = 5 * 60_000;

export interface ServerCertificateOptions {
  hostnames: string[];
  ips: string[];
  days?: number;
  commonName?: string;
  /** @internal Tests use these to mint expired or future certificates. */
  notBefore?: Date;
  /** @internal */
  notAfter?: Date;
}

// RFC 1123 labels plus a leading "*." wildcard; underscores are tolerated because
// real LAN hostnames contain them and TLS clients match them literally.
const DNS_NAME = /^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

export function isValidDnsName(name: string): boolean {
  return name.length <= 253 && DNS_NAME.test(name);
}

export function validityPeriod(
  opts: Pick<ServerCertificateOptions, "days" | "notBefore" | "notAfter">,
  maxDays: number,
): { notBefore: Date; notAfter: Date } {
  const days = opts.days ?? maxDays;
  if (!Number.isInteger(days) || days < 1 || days > maxDays) {
    throw new RangeError(`Certificate lifetime must be a whole number of days between 1 and ${maxDays}, got ${days}.`);
  }
  // X.509 times carry whole seconds; truncating keeps notAfter - notBefore exact.
  const notBefore = opts.notBefore ?? new Date(Math.floor((Date.now() - CLOCK_SKEW_MS) / 1000) * 1000);
  const notAfter = opts.notAfter ?? new Date(notBefore.getTime() + days * DAY_MS);
  return { notBefore, notAfter };
}

export function subjectAltNames(hostnames: string[], ips: string[]): x509.SubjectAlternativeNameExtension {
  const names: x509.JsonGeneralNames = [];
  for (const raw of hostnames) {
    const name = raw.trim().toLowerCase();
    if (!isValidDnsName(name)) {
      throw new CertificateError("invalid-name", `"${raw}" is not a valid DNS name for a certificate.`);
    }
    names.push({ type: "dns", value: name.replace(/\.$/, "") });
  }
  for (const raw of ips) {
    const ip = raw.trim().replace(/^\[(.*)\]$/, "$1");
    if (isIP(ip) === 0) {
      throw new CertificateError("invalid-name", `"${raw}" is not a valid IPv4 or IPv6 address.`);
    }
    names.push({ type: "ip", value: ip });
  }
  if (names.length === 0) {
    throw new CertificateError("invalid-name", "A server certificate needs at least one hostname or IP address.");
  }
  return new x509.SubjectAlternativeNameExtension(names, false);
}

/** Extensions every server (leaf) certificate carries, self-signed or CA-issued. */
export async function serverExtensions(
  opts: Pick<ServerCertificateOptions, "hostnames" | "ips">,
  publicKey: CryptoKey,
): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
    subjectAltNames(opts.hostnames, opts.ips),
    await x509.SubjectKeyIdentifierExtension.create(publicKey, false),
  ];
}

/** Subject of a server certificate; browsers ignore it in favour of the SANs, so it is for humans. */
export function serverSubject(opts: Pick<ServerCertificateOptions, "hostnames" | "ips" | "commonName">): x509.JsonName {
  const cn = opts.commonName ?? opts.hostnames[0] ?? opts.ips[0] ?? "voicesrv";
  // X.520 caps commonName at 64 characters; long FQDNs still live in the SANs.
  return [{ "2.5.4.3": [cn.length <= 64 ? cn : "voicesrv"] }];
}
