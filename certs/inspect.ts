import { createHash, createPublicKey } from "node:crypto";
import { describeKey } from "./keys.ts";
import { parseCertificateBundle } from "./pem-bundle.ts";
import { x509 } from "./x509.ts";

export interface CertInfo {
  subject: string;
  issuer: string;
  sans: { dns: string[]; ip: string[] };
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** Whole days until notAfter; negative once expired. */
  daysLeft: number;
  /** SHA-256 of the DER, "AA:BB:…" as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprint256: string;
  keyAlgorithm: string;
  signatureAlgorithm: string;
  selfSigned: boolean;
  isCA: boolean;
  /** Certificates in the PEM (1 for a lone certificate). */
  chainLength: number;
}

const DAY_MS = 86_400_000;

const SIGNATURE_NAMES: Record<string, string> = {
  ECDSA: "ECDSA",
  "RSASSA-PKCS1-v1_5": "RSA",
  "RSA-PSS": "RSA-PSS",
};

function signatureName(cert: x509.X509Certificate): string {
  try {
    const alg = cert.signatureAlgorithm as { name: string; hash?: { name: string } };
    const name = SIGNATURE_NAMES[alg.name] ?? alg.name;
    return alg.hash ? `${name} with ${alg.hash.name}` : name;
  } catch {
    // Unknown algorithms make the library throw; the report should still work.
    return "unknown";
  }
}

function keyName(cert: x509.X509Certificate): string {
  try {
    return describeKey(createPublicKey({ key: Buffer.from(cert.publicKey.rawData), format: "der", type: "spki" }));
  } catch {
    // Keys the platform cannot load (exotic curves) should not break `status`.
    return "unknown";
  }
}

function isSelfIssued(cert: x509.X509Certificate): boolean {
  const subject = Buffer.from(cert.subjectName.toArrayBuffer());
  const issuer = Buffer.from(cert.issuerName.toArrayBuffer());
  if (!subject.equals(issuer)) return false;
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  return !ski || !aki?.keyId || ski.keyId === aki.keyId;
}

/** Facts about a certificate (the leaf, for a bundle) that `status` and import report. */
export function inspectCertificate(certPem: string, now: Date = new Date()): CertInfo {
  const chain = parseCertificateBundle(certPem);
  const cert = chain[0]!;
  return describeCertificate(cert, now, chain.length);
}

export function describeCertificate(cert: x509.X509Certificate, now: Date, chainLength = 1): CertInfo {
  const sans = { dns: [] as string[], ip: [] as string[] };
  for (const name of cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? []) {
    if (name.type === "dns") sans.dns.push(name.value);
    else if (name.type === "ip") sans.ip.push(name.value);
  }
  const der = new Uint8Array(cert.rawData);
  const fingerprint256 = createHash("sha256").update(der).digest("hex").toUpperCase().replace(/(..)(?!$)/g, "$1:");
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    sans,
    serialNumber: cert.serialNumber.toUpperCase(),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    daysLeft: Math.floor((cert.notAfter.getTime() - now.getTime()) / DAY_MS),
    fingerprint256,
    keyAlgorithm: keyName(cert),
    signatureAlgorithm: signatureName(cert),
    selfSigned: isSelfIssued(cert),
    isCA: cert.getExtension(x509.BasicConstraintsExtension)?.ca ?? false,
    chainLength,
  };
}
