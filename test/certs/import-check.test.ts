import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { describe, expect, test } from "vitest";
import { CertificateError, createCA, generateSelfSigned, issueServerCertificate, validateCertificatePair } from "../../certs/index.ts";
import { x509 } from "../../certs/x509.ts";

const names = { hostnames: ["localhost"], ips: ["127.0.0.1"] };
const DAY_MS = 86_400_000;

async function rejection(p: Promise<unknown>): Promise<CertificateError> {
  const err = await p.then(
    () => {
      throw new Error("expected validateCertificatePair to reject");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CertificateError);
  const ce = err as CertificateError;
  // One readable sentence for the operator, never key material.
  expect(ce.message).toMatch(/^[A-Z].*[.)]$/);
  expect(ce.message).not.toMatch(/[A-Za-z0-9+/]{40}/);
  return ce;
}

/** A certificate for an RSA key, as an older certbot setup would have. */
async function rsaPair(): Promise<{ certPem: string; keyPem: string }> {
  const keys = await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  );
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: "CN=rsa.example",
    keys,
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + 90 * DAY_MS),
    signingAlgorithm: { name: "RSASSA-PKCS1-v1_5" },
  });
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  const keyPem = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" }).export({ type: "pkcs1", format: "pem" }) as string;
  return { certPem: cert.toString("pem"), keyPem };
}

describe("validateCertificatePair accepts", () => {
  test("a matching self-signed pair", async () => {
    const pair = await generateSelfSigned(names);
    const info = await validateCertificatePair(pair.certPem, pair.keyPem);
    expect(info).toMatchObject({ keyAlgorithm: "ECDSA P-256", selfSigned: true, chainLength: 1 });
  });

  test("a leaf + CA bundle issued by the private CA", async () => {
    const ca = await createCA();
    const leaf = await issueServerCertificate(ca, names);
    const info = await validateCertificatePair(leaf.certPem, leaf.keyPem);
    expect(info).toMatchObject({ chainLength: 2, selfSigned: false, isCA: false, sans: { dns: ["localhost"], ip: ["127.0.0.1"] } });
  });

  test("a SEC1 'EC PRIVATE KEY' file", async () => {
    const pair = await generateSelfSigned(names);
    const sec1 = createPrivateKey(pair.keyPem).export({ type: "sec1", format: "pem" }) as string;
    expect(sec1).toContain("BEGIN EC PRIVATE KEY");
    await expect(validateCertificatePair(pair.certPem, sec1)).resolves.toMatchObject({ keyAlgorithm: "ECDSA P-256" });
  });

  test("an RSA certificate with a PKCS#1 'RSA PRIVATE KEY' file", async () => {
    const pair = await rsaPair();
    expect(pair.keyPem).toContain("BEGIN RSA PRIVATE KEY");
    await expect(validateCertificatePair(pair.certPem, pair.keyPem)).resolves.toMatchObject({
      keyAlgorithm: "RSA 2048",
      signatureAlgorithm: "RSA with SHA-256",
    });
  });

  test("a P-384 key", async () => {
    const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, true, ["sign", "verify"]);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: "CN=p384.example",
      keys,
      notBefore: new Date(Date.now() - DAY_MS),
      notAfter: new Date(Date.now() + DAY_MS),
      signingAlgorithm: { name: "ECDSA", hash: "SHA-384" } as EcdsaParams,
    });
    const keyPem = x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", keys.privateKey), "PRIVATE KEY");
    await expect(validateCertificatePair(cert.toString("pem"), keyPem)).resolves.toMatchObject({
      keyAlgorithm: "ECDSA P-384",
      signatureAlgorithm: "ECDSA with SHA-384",
    });
  });
});

describe("validateCertificatePair rejects", () => {
  test("a key from another pair: key-mismatch", async () => {
    const [a, b] = await Promise.all([generateSelfSigned(names), generateSelfSigned(names)]);
    expect((await rejection(validateCertificatePair(a.certPem, b.keyPem))).code).toBe("key-mismatch");
    expect((await rejection(validateCertificatePair(b.certPem, a.keyPem))).code).toBe("key-mismatch");
  });

  test("an RSA key against an EC certificate: key-mismatch", async () => {
    const ec = await generateSelfSigned(names);
    const rsa = await rsaPair();
    expect((await rejection(validateCertificatePair(ec.certPem, rsa.keyPem))).code).toBe("key-mismatch");
  });

  test("an expired certificate: expired", async () => {
    const now = Date.now();
    const pair = await generateSelfSigned({ ...names, notBefore: new Date(now - 30 * DAY_MS), notAfter: new Date(now - DAY_MS) });
    const err = await rejection(validateCertificatePair(pair.certPem, pair.keyPem));
    expect(err.code).toBe("expired");
    expect(err.message).toMatch(/expired on \d{4}-\d\d-\d\d/);
  });

  test("a certificate from the future: not-yet-valid", async () => {
    const now = Date.now();
    const pair = await generateSelfSigned({ ...names, notBefore: new Date(now + DAY_MS), notAfter: new Date(now + 30 * DAY_MS) });
    expect((await rejection(validateCertificatePair(pair.certPem, pair.keyPem))).code).toBe("not-yet-valid");
  });

  test("the `now` argument decides validity", async () => {
    const pair = await generateSelfSigned(names);
    const later = new Date(Date.now() + 400 * DAY_MS);
    expect((await rejection(validateCertificatePair(pair.certPem, pair.keyPem, later))).code).toBe("expired");
  });

  test("garbage or a swapped file: bad-pem", async () => {
    const pair = await generateSelfSigned(names);
    expect((await rejection(validateCertificatePair("hello", pair.keyPem))).code).toBe("bad-pem");
    expect((await rejection(validateCertificatePair(pair.certPem, "hello"))).code).toBe("bad-pem");
    const swapped = await rejection(validateCertificatePair(pair.keyPem, pair.certPem));
    expect(swapped.code).toBe("bad-pem");
    expect(swapped.message).toMatch(/swapped/);
    const damaged = pair.certPem.replace(/\n[A-Za-z0-9+/]{10}/, "\n!!!!!!!!!!");
    expect((await rejection(validateCertificatePair(damaged, pair.keyPem))).code).toBe("bad-pem");
    const damagedKey = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    expect((await rejection(validateCertificatePair(pair.certPem, damagedKey))).code).toBe("bad-pem");
  });

  test("a CA-first bundle: chain-order", async () => {
    const ca = await createCA();
    const leaf = await issueServerCertificate(ca, names);
    const reversed = ca.certPem + leaf.certPem.slice(0, leaf.certPem.indexOf("-----END CERTIFICATE-----") + 25) + "\n";
    const err = await rejection(validateCertificatePair(reversed, leaf.keyPem));
    expect(err.code).toBe("chain-order");
    expect(err.message).toMatch(/must come first/);
  });

  test("a leaf followed by a CA that did not issue it: chain-order", async () => {
    const [ca, otherCa] = await Promise.all([createCA(), createCA()]);
    const leaf = await issueServerCertificate(ca, names);
    const leafOnly = leaf.certPem.slice(0, leaf.certPem.indexOf("-----END CERTIFICATE-----") + 25) + "\n";
    const err = await rejection(validateCertificatePair(leafOnly + otherCa.certPem, leaf.keyPem));
    expect(err.code).toBe("chain-order");
    // The leaf on its own is fine: intermediates are optional here.
    await expect(validateCertificatePair(leafOnly, leaf.keyPem)).resolves.toMatchObject({ chainLength: 1 });
  });

  test("Ed25519 and small RSA keys: unsupported-key", async () => {
    const ed = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    const pair = await generateSelfSigned(names);
    expect((await rejection(validateCertificatePair(pair.certPem, ed))).code).toBe("unsupported-key");
    const small = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs1", format: "pem" }) as string;
    expect((await rejection(validateCertificatePair(pair.certPem, small))).code).toBe("unsupported-key");
  });

  test("a passphrase-protected key: unsupported-key naming the openssl command", async () => {
    const pair = await generateSelfSigned(names);
    const encrypted = createPrivateKey(pair.keyPem).export({
      type: "pkcs8",
      format: "pem",
      cipher: "aes-256-cbc",
      passphrase: "secret",
    }) as string;
    const err = await rejection(validateCertificatePair(pair.certPem, encrypted));
    expect(err.code).toBe("unsupported-key");
    expect(err.message).toContain("openssl pkey");
  });
});
