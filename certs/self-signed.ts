import { exportPrivateKeyPem, generateServerKeyPair } from "./keys.ts";
import { MAX_SERVER_DAYS, serverExtensions, serverSubject, validityPeriod, type ServerCertificateOptions } from "./leaf-profile.ts";
import { randomSerialNumber } from "./serial.ts";
import { x509 } from "./x509.ts";

export type SelfSignedOptions = ServerCertificateOptions;

/** A fresh ECDSA P-256 server certificate signed by its own key. */
export async function generateSelfSigned(opts: SelfSignedOptions): Promise<{ certPem: string; keyPem: string }> {
  const { notBefore, notAfter } = validityPeriod(opts, MAX_SERVER_DAYS);
  const keys = await generateServerKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: serverSubject(opts),
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams,
    extensions: await serverExtensions(opts, keys.publicKey),
  });
  return { certPem: cert.toString("pem") + "\n", keyPem: await exportPrivateKeyPem(keys.privateKey) + "\n" };
}
