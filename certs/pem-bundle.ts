import { CertificateError } from "./errors.ts";
import { x509 } from "./x509.ts";

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Parses every certificate in a PEM file, in file order (leaf first for a
 * certbot fullchain.pem). Anything between the blocks — comments, "subject="
 * lines some CAs add — is ignored, as OpenSSL does.
 */
export function parseCertificateBundle(pem: string): x509.X509Certificate[] {
  const blocks = typeof pem === "string" ? pem.match(CERT_BLOCK) : null;
  if (!blocks || blocks.length === 0) {
    throw new CertificateError(
      "bad-pem",
      'The certificate file contains no PEM certificate (expected a "-----BEGIN CERTIFICATE-----" block, e.g. certbot\'s fullchain.pem).',
    );
  }
  return blocks.map((block, i) => {
    try {
      return new x509.X509Certificate(block);
    } catch (cause) {
      throw new CertificateError(
        "bad-pem",
        `Certificate ${i + 1} in the file is damaged and cannot be decoded.`,
        { cause },
      );
    }
  });
}

/** Re-encodes certificates as a PEM bundle with one trailing newline. */
export function certificatesToPem(certs: x509.X509Certificate[]): string {
  return certs.map((c) => c.toString("pem").trim()).join("\n") + "\n";
}
