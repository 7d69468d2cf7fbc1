import { X509Certificate } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import {
  createCA,
  lanAddresses,
  ensureCA,
  ensureCertificate,
  generateSelfSigned,
  inspectCertificate,
  issueServerCertificate,
  validateCertificatePair,
  writeCertificatePair,
} from "../../certs/index.ts";
import { x509 } from "../../certs/x509.ts";

let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "voicesrv-certs-"));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const mode = async (p: string) => (await stat(p)).mode & 0o777;

describe("ensureCertificate", () => {
  test("generates once with owner-only key, then keeps the pair", async () => {
    const dir = path.join(root, "data");
    const first = await ensureCertificate(dir);
    expect(first.generated).toBe(true);
    expect(first.certPath).toBe(path.join(dir, "cert.pem"));
    expect(first.keyPath).toBe(path.join(dir, "key.pem"));
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(first.keyPath)).toBe(0o600);
    expect(await mode(first.certPath)).toBe(0o644);
    expect((await readdir(dir)).sort()).toEqual(["cert.pem", "key.pem"]);

    const certPem = await readFile(first.certPath, "utf8");
    const keyPem = await readFile(first.keyPath, "utf8");
    const info = await validateCertificatePair(certPem, keyPem);
    expect(info.sans.dns).toContain("localhost");
    expect(info.sans.ip).toEqual(["127.0.0.1", "::1", ...lanAddresses()]);
    expect(info.fingerprint256).toBe(new X509Certificate(certPem).fingerprint256);

    const second = await ensureCertificate(dir);
    expect(second.generated).toBe(false);
    expect(inspectCertificate(await readFile(second.certPath, "utf8")).fingerprint256).toBe(info.fingerprint256);
    expect(await readFile(second.keyPath, "utf8")).toBe(keyPem);
  });

  test("uses the given names", async () => {
    const { certPath } = await ensureCertificate(root, { hostnames: ["voice.lan"], ips: ["192.168.0.9"], days: 90 });
    const info = inspectCertificate(await readFile(certPath, "utf8"));
    expect(info.sans).toEqual({ dns: ["voice.lan"], ip: ["192.168.0.9"] });
    expect(info.notAfter.getTime() - info.notBefore.getTime()).toBe(90 * 86_400_000);
  });

  test("regenerates when half of the pair is missing", async () => {
    await writeFile(path.join(root, "cert.pem"), "stale");
    const result = await ensureCertificate(root);
    expect(result.generated).toBe(true);
    const pair = await Promise.all([readFile(result.certPath, "utf8"), readFile(result.keyPath, "utf8")]);
    await expect(validateCertificatePair(...pair)).resolves.toBeDefined();
  });

  test("never replaces an imported (or CA, or ACME) pair with a fresh self-signed one when a file is missing", async () => {
    await ensureCertificate(root);
    const key = await readFile(path.join(root, "key.pem"), "utf8");
    await writeFile(path.join(root, "kind"), "imported\n");
    await rm(path.join(root, "cert.pem"));
    await expect(ensureCertificate(root)).rejects.toThrow(/not one voicesrv may replace/);
    expect(await readFile(path.join(root, "key.pem"), "utf8")).toBe(key);
    expect((await readdir(root)).sort()).toEqual(["key.pem", "kind"]);
  });
});

describe("writeCertificatePair", () => {
  test("replaces an existing pair atomically with the same modes and no temp files", async () => {
    await ensureCertificate(root);
    const next = await generateSelfSigned({ hostnames: ["renewed.example"], ips: [] });
    const paths = await writeCertificatePair(root, next.certPem, next.keyPem);
    expect(await readFile(paths.certPath, "utf8")).toBe(next.certPem);
    expect(await readFile(paths.keyPath, "utf8")).toBe(next.keyPem);
    expect(await mode(paths.keyPath)).toBe(0o600);
    expect(await mode(paths.certPath)).toBe(0o644);
    expect((await readdir(root)).sort()).toEqual(["cert.pem", "key.pem"]);
  });

  test("sets exact modes even under a restrictive umask", async () => {
    const old = process.umask(0o077);
    try {
      const pair = await generateSelfSigned({ hostnames: ["localhost"], ips: [] });
      const paths = await writeCertificatePair(path.join(root, "new"), pair.certPem, pair.keyPem);
      expect(await mode(paths.certPath)).toBe(0o644);
      expect(await mode(paths.keyPath)).toBe(0o600);
    } finally {
      process.umask(old);
    }
  });
});

describe("ensureCA", () => {
  test("creates dir/ca once and keeps it; issued leaves validate against it", async () => {
    const first = await ensureCA(root);
    expect(first.generated).toBe(true);
    expect(first.certPath).toBe(path.join(root, "ca", "ca.pem"));
    expect(first.keyPath).toBe(path.join(root, "ca", "ca-key.pem"));
    expect(await mode(path.join(root, "ca"))).toBe(0o700);
    expect(await mode(first.keyPath)).toBe(0o600);
    expect((await readdir(path.join(root, "ca"))).sort()).toEqual(["ca-key.pem", "ca.pem"]);

    const second = await ensureCA(root);
    expect(second.generated).toBe(false);
    expect(second.certPem).toBe(first.certPem);
    expect(second.keyPem).toBe(first.keyPem);

    const caCert = new X509Certificate(first.certPem);
    expect(caCert.ca).toBe(true);
    const info = inspectCertificate(first.certPem);
    expect(info).toMatchObject({ isCA: true, selfSigned: true });
    expect(info.notAfter.getTime() - info.notBefore.getTime()).toBe(3650 * 86_400_000);

    const leaf = await issueServerCertificate(second, { hostnames: ["localhost"], ips: ["127.0.0.1"] });
    const leafCert = new X509Certificate(leaf.certPem);
    expect(leafCert.checkIssued(caCert)).toBe(true);
    expect(leafCert.verify(caCert.publicKey)).toBe(true);
  });
});

describe("private CA certificates", () => {
  test("issued leaf carries SAN, serverAuth, AKI = CA SKI and at most 397 days", async () => {
    const ca = await createCA({ commonName: "Test Home CA", days: 30 });
    const caCert = new X509Certificate(ca.certPem);
    expect(caCert.subject).toContain("CN=Test Home CA");
    const caX = new x509.X509Certificate(ca.certPem);
    expect(caX.getExtension(x509.BasicConstraintsExtension)).toMatchObject({ ca: true, pathLength: 0, critical: true });
    expect(caX.getExtension(x509.KeyUsagesExtension)?.usages).toBe(
      x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
    );

    const leaf = await issueServerCertificate(ca, { hostnames: ["pi.lan"], ips: ["192.168.1.2"] });
    const leafX = new x509.X509Certificate(leaf.certPem);
    expect(leafX.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(
      caX.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId,
    );
    expect(leafX.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([x509.ExtendedKeyUsage.serverAuth]);
    expect(leafX.getExtension(x509.KeyUsagesExtension)?.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(leafX.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
    const info = inspectCertificate(leaf.certPem);
    expect(info.chainLength).toBe(2);
    expect(info.selfSigned).toBe(false);
    expect(info.isCA).toBe(false);
    expect(info.issuer).toContain("CN=Test Home CA");
    // Capped by the CA's own 30-day lifetime.
    expect(info.notAfter.getTime()).toBe(new Date(caCert.validTo).getTime());
    await expect(issueServerCertificate(ca, { hostnames: ["pi.lan"], ips: [], days: 398 })).rejects.toThrow(RangeError);
  });

  test("refuses to issue from a certificate that is not a CA", async () => {
    const notCa = await generateSelfSigned({ hostnames: ["localhost"], ips: [] });
    await expect(issueServerCertificate(notCa, { hostnames: ["x.lan"], ips: [] })).rejects.toMatchObject({ code: "not-a-ca" });
  });
});
