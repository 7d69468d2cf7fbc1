import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { CertificateError } from "./errors.ts";
import { x509 } from "./x509.ts";

export const SERVER_KEY_ALGORITHM: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };

export async function generateServerKeyPair(): Promise<CryptoKeyPair> {
  // Extractable because the key has to be written to disk for the TLS listener.
  return crypto.subtle.generateKey(SERVER_KEY_ALGORITHM, true, ["sign", "verify"]);
}

export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

const CURVE_NAMES: Record<string, string> = {
  prime256v1: "P-256",
  secp384r1: "P-384",
  secp521r1: "P-521",
};

/** Human name of a key, e.g. "ECDSA P-256" or "RSA 2048". */
export function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case "ec":
      return `ECDSA ${CURVE_NAMES[details.namedCurve ?? ""] ?? details.namedCurve ?? "unknown curve"}`;
    case "rsa":
      return `RSA ${details.modulusLength ?? "?"}`;
    case "rsa-pss":
      return `RSA-PSS ${details.modulusLength ?? "?"}`;
    case "ed25519":
      return "Ed25519";
    case "ed448":
      return "Ed448";
    default:
      return key.asymmetricKeyType ?? "unknown";
  }
}

/**
 * Parses a private key PEM in any of the layouts certbot and openssl produce:
 * PKCS#8 "PRIVATE KEY", SEC1 "EC PRIVATE KEY" and PKCS#1 "RSA PRIVATE KEY".
 */
export function parsePrivateKeyPem(pem: string): KeyObject {
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/.test(pem)) {
    throw new CertificateError(
      "unsupported-key",
      "The private key is protected by a passphrase; decrypt it first with `openssl pkey -in key.pem -out key-decrypted.pem`.",
    );
  }
  if (!/-----BEGIN (?:RSA |EC )?PRIVATE KEY-----/.test(pem)) {
    throw new CertificateError(
      "bad-pem",
      'The key file is not a PEM private key (expected a "-----BEGIN PRIVATE KEY-----" block, e.g. certbot\'s privkey.pem).',
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: "pem" });
  } catch (cause) {
    throw new CertificateError(
      "bad-pem",
      "The private key PEM could not be decoded; if it is in an unusual layout, convert it with `openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem`.",
      { cause },
    );
  }
  assertSupportedServerKey(key);
  return key;
}

/** Key types browsers and Bun's TLS stack both handle well for a server certificate. */
export function assertSupportedServerKey(key: KeyObject): void {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === "ec" && (details.namedCurve === "prime256v1" || details.namedCurve === "secp384r1")) return;
  if (key.asymmetricKeyType === "rsa" && (details.modulusLength ?? 0) >= 2048) return;
  throw new CertificateError(
    "unsupported-key",
    `The key type ${describeKey(key)} is not supported; use an ECDSA P-256/P-384 or RSA (2048 bits or more) key.`,
  );
}

/** True if `privateKey` is the private half of the certificate's public key. */
export function privateKeyMatchesCertificate(privateKey: KeyObject, cert: x509.X509Certificate): boolean {
  const certSpki = Buffer.from(cert.publicKey.rawData);
  const keySpki = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  if (certSpki.equals(keySpki)) return true;
  // The same key can be encoded differently (compressed EC points, explicit
  // curve parameters), so a byte mismatch is settled by a signature round trip.
  try {
    const certKey = createPublicKey({ key: certSpki, format: "der", type: "spki" });
    if (certKey.asymmetricKeyType !== privateKey.asymmetricKeyType) return false;
    const challenge = crypto.getRandomValues(new Uint8Array(32));
    return verify("sha256", challenge, certKey, sign("sha256", challenge, privateKey));
  } catch {
    return false;
  }
}

/** Turns a parsed private key into a WebCrypto signing key plus the matching X.509 signature algorithm. */
export async function toSigningKey(
  key: KeyObject,
): Promise<{ signingKey: CryptoKey; signingAlgorithm: Algorithm | EcdsaParams }> {
  const pkcs8 = key.export({ type: "pkcs8", format: "der" });
  const curve = key.asymmetricKeyDetails?.namedCurve ?? "";
  if (key.asymmetricKeyType === "ec" && (curve === "prime256v1" || curve === "secp384r1")) {
    const namedCurve = CURVE_NAMES[curve]!;
    const hash = namedCurve === "P-384" ? "SHA-384" : "SHA-256";
    const signingKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "ECDSA", namedCurve }, false, ["sign"]);
    return { signingKey, signingAlgorithm: { name: "ECDSA", hash } as EcdsaParams };
  }
  if (key.asymmetricKeyType === "rsa") {
    const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    const signingKey = await crypto.subtle.importKey("pkcs8", pkcs8, algorithm, false, ["sign"]);
    return { signingKey, signingAlgorithm: algorithm };
  }
  throw new CertificateError("unsupported-key", `A ${describeKey(key)} key cannot sign certificates here; use ECDSA P-256.`);
}
