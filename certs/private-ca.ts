import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { assertRealDirectory, ensurePrivateDirectory, refuseSymlink, syncDirectory, writeFileAtomic, type FileOwner } from "./atomic-write.ts";
import { CertificateError } from "./errors.ts";
import { exportPrivateKeyPem, generateServerKeyPair, parsePrivateKeyPem, privateKeyMatchesCertificate, toSigningKey } from "./keys.ts";
import { MAX_SERVER_DAYS, serverExtensions, serverSubject, validityPeriod, type ServerCertificateOptions } from "./leaf-profile.ts";
import { certificatesToPem, parseCertificateBundle } from "./pem-bundle.ts";
import { randomSerialNumber } from "./serial.ts";
import { x509 } from "./x509.ts";

export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
}

export const CA_DIR = "ca";
export const CA_CERT_FILE = "ca.pem";
export const CA_KEY_FILE = "ca-key.pem";
const DEFAULT_CA_DAYS = 3650;

/**
 * A root for home/LAN installs: devices trust it once, and every server
 * certificate it issues (including renewals) is then trusted without warnings.
 */
export async function createCA(opts: { commonName?: string; days?: number } = {}): Promise<CertificateAuthority> {
  const days = opts.days ?? DEFAULT_CA_DAYS;
  const { notBefore, notAfter } = validityPeriod({ days }, Math.max(days, 1));
  const keys = await generateServerKeyPair();
  // The hostname and a random tag tell several installs apart in a phone's trust settings.
  const tag = Buffer.from(crypto.getRandomValues(new Uint8Array(3))).toString("hex");
  const commonName = opts.commonName ?? `voicesrv private CA ${os.hostname() || "local"} ${tag}`.slice(0, 64);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: [{ "2.5.4.3": [commonName] }, { "2.5.4.10": ["voicesrv"] }],
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams,
    extensions: [
      // pathLen 0: if the CA key leaks it can still only mint leaves, not sub-CAs.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false),
    ],
  });
  return { certPem: cert.toString("pem") + "\n", keyPem: (await exportPrivateKeyPem(keys.privateKey)) + "\n" };
}

/** Issues a server certificate; certPem holds the leaf followed by the CA certificate. */
export async function issueServerCertificate(
  ca: CertificateAuthority,
  opts: Omit<ServerCertificateOptions, "commonName"> & { commonName?: string },
): Promise<{ certPem: string; keyPem: string }> {
  const caCert = parseCertificateBundle(ca.certPem)[0]!;
  if (!caCert.getExtension(x509.BasicConstraintsExtension)?.ca) {
    throw new CertificateError("not-a-ca", "The given CA certificate is not a certificate authority (basicConstraints CA:false).");
  }
  const caKey = parsePrivateKeyPem(ca.keyPem);
  if (!privateKeyMatchesCertificate(caKey, caCert)) {
    throw new CertificateError("key-mismatch", "The CA private key does not belong to the CA certificate.");
  }
  const { signingKey, signingAlgorithm } = await toSigningKey(caKey);

  const period = validityPeriod(opts, MAX_SERVER_DAYS);
  // A leaf that outlives its issuer fails validation after the CA expires anyway;
  // capping it makes `status` report the real deadline.
  const notAfter = period.notAfter > caCert.notAfter ? caCert.notAfter : period.notAfter;

  const caSki = caCert.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = caSki
    ? new x509.AuthorityKeyIdentifierExtension(caSki.keyId, false)
    : await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey, false);

  const keys = await generateServerKeyPair();
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: serverSubject(opts),
    // Reuse the CA's encoded name so issuer/subject match byte for byte.
    issuer: caCert.subjectName,
    notBefore: period.notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey,
    signingAlgorithm,
    extensions: [...(await serverExtensions(opts, keys.publicKey)), aki],
  });
  return {
    certPem: certificatesToPem([leaf, caCert]),
    keyPem: (await exportPrivateKeyPem(keys.privateKey)) + "\n",
  };
}

/**
 * Loads dir/ca/ca.pem and ca-key.pem, creating the CA on first use (given to `owner`).
 * A symlinked dir or dir/ca is refused before anything is read or written: it would let
 * whoever planted it choose the CA root signs with, or where root writes the CA key.
 */
export async function ensureCA(
  dir: string,
  opts: { commonName?: string; days?: number; owner?: FileOwner } = {},
): Promise<CertificateAuthority & { certPath: string; keyPath: string; generated: boolean }> {
  const caDir = path.join(dir, CA_DIR);
  const certPath = path.join(caDir, CA_CERT_FILE);
  const keyPath = path.join(caDir, CA_KEY_FILE);
  await assertRealDirectory(dir, true);
  await assertRealDirectory(caDir, true);
  try {
    const [certPem, keyPem] = await Promise.all([readFile(certPath, "utf8"), readFile(keyPath, "utf8")]);
    return { certPem, keyPem, certPath, keyPath, generated: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await ensurePrivateDirectory(dir, opts.owner);
  await ensurePrivateDirectory(caDir, opts.owner);
  await refuseSymlink(keyPath);
  await refuseSymlink(certPath);
  const ca = await createCA(opts);
  await writeFileAtomic(keyPath, ca.keyPem, 0o600, opts.owner);
  await writeFileAtomic(certPath, ca.certPem, 0o644, opts.owner);
  await syncDirectory(caDir);
  return { ...ca, certPath, keyPath, generated: true };
}
