import { CertificateError } from "./errors.ts";
import { describeCertificate, type CertInfo } from "./inspect.ts";
import { parsePrivateKeyPem, privateKeyMatchesCertificate } from "./keys.ts";
import { parseCertificateBundle } from "./pem-bundle.ts";
import { x509 } from "./x509.ts";

function formatDate(d: Date): string {
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

async function issuedBy(child: x509.X509Certificate, parent: x509.X509Certificate): Promise<boolean> {
  const childIssuer = Buffer.from(child.issuerName.toArrayBuffer());
  const parentSubject = Buffer.from(parent.subjectName.toArrayBuffer());
  // Encodings of the same name can differ between CAs, so fall back to the
  // signature, which is what actually binds the two certificates.
  if (!childIssuer.equals(parentSubject) && child.issuer !== parent.subject) return false;
  try {
    return await child.verify({ publicKey: parent.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}

/**
 * Checks a certificate (or leaf-first bundle such as certbot's fullchain.pem)
 * against its private key before it replaces the running one. Throws a
 * CertificateError whose message tells the operator what to fix.
 */
export async function validateCertificatePair(certPem: string, keyPem: string, now: Date = new Date()): Promise<CertInfo> {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(certPem) && /-----BEGIN CERTIFICATE-----/.test(keyPem)) {
    throw new CertificateError("bad-pem", "The certificate and key files appear to be swapped; pass the certificate first, then the key.");
  }
  const chain = parseCertificateBundle(certPem);
  const key = parsePrivateKeyPem(keyPem);

  const matching = chain.findIndex((cert) => privateKeyMatchesCertificate(key, cert));
  if (matching === -1) {
    throw new CertificateError(
      "key-mismatch",
      chain.length > 1
        ? "The private key does not belong to any certificate in the file (with certbot, use fullchain.pem together with privkey.pem from the same live/ directory)."
        : "The private key does not belong to this certificate (with certbot, use fullchain.pem together with privkey.pem from the same live/ directory).",
    );
  }
  if (matching !== 0) {
    throw new CertificateError(
      "chain-order",
      `The server certificate must come first in the file but is number ${matching + 1}; order it leaf first, then each issuer (as certbot's fullchain.pem does).`,
    );
  }

  const leaf = chain[0]!;
  if (now.getTime() > leaf.notAfter.getTime()) {
    throw new CertificateError("expired", `The certificate expired on ${formatDate(leaf.notAfter)}; renew it before importing.`);
  }
  if (now.getTime() < leaf.notBefore.getTime()) {
    throw new CertificateError(
      "not-yet-valid",
      `The certificate is not valid until ${formatDate(leaf.notBefore)}; check this machine's clock or wait until then.`,
    );
  }

  for (let i = 0; i + 1 < chain.length; i++) {
    if (!(await issuedBy(chain[i]!, chain[i + 1]!))) {
      throw new CertificateError(
        "chain-order",
        `Certificate ${i + 1} in the file is not issued by certificate ${i + 2}; each certificate must be followed by its issuer (as in certbot's fullchain.pem).`,
      );
    }
  }

  return describeCertificate(leaf, now, chain.length);
}
