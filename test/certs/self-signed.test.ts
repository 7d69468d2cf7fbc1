import { X509Certificate, createPrivateKey } from "node:crypto";
import { describe, expect, test } from "vitest";
import { defaultNames, generateSelfSigned, lanAddresses, inspectCertificate, MAX_SERVER_DAYS } from "../../certs/index.ts";

const DAY_MS = 86_400_000;

describe("generateSelfSigned", () => {
  test("produces a P-256/SHA-256 server certificate node:crypto accepts", async () => {
    const { certPem, keyPem } = await generateSelfSigned({
      hostnames: ["localhost", "voice.example.org"],
      ips: ["127.0.0.1", "::1", "192.168.1.20"],
    });
    const cert = new X509Certificate(certPem);

    const san = cert.subjectAltName ?? "";
    expect(san).toContain("DNS:localhost");
    expect(san).toContain("DNS:voice.example.org");
    expect(san).toContain("IP Address:127.0.0.1");
    expect(san).toContain("IP Address:192.168.1.20");
    expect(san).toMatch(/IP Address:(0:0:0:0:0:0:0:1|::1)\b/);

    expect(cert.publicKey.asymmetricKeyType).toBe("ec");
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect((cert as unknown as { signatureAlgorithm: string }).signatureAlgorithm).toBe("ecdsa-with-SHA256");
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);

    const notBefore = new Date(cert.validFrom).getTime();
    const notAfter = new Date(cert.validTo).getTime();
    expect(notAfter - notBefore).toBe(397 * DAY_MS);
    expect(notBefore).toBeLessThan(Date.now() - 60_000);
    expect(notBefore).toBeGreaterThan(Date.now() - 10 * 60_000);

    expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(cert.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);

    // A positive INTEGER without a pad byte: 16 bytes, high bit clear.
    expect(cert.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/i);
    expect(cert.serialNumber).not.toMatch(/^00/);

    const info = inspectCertificate(certPem);
    expect(info.fingerprint256).toBe(cert.fingerprint256);
    expect(info.keyAlgorithm).toBe("ECDSA P-256");
    expect(info.signatureAlgorithm).toBe("ECDSA with SHA-256");
    expect(info.sans).toEqual({ dns: ["localhost", "voice.example.org"], ip: ["127.0.0.1", "::1", "192.168.1.20"] });
    expect(info.selfSigned).toBe(true);
    expect(info.isCA).toBe(false);
    expect(info.chainLength).toBe(1);
    expect(info.subject).toBe("CN=localhost");
    expect(info.daysLeft).toBe(396);
  });

  test("serials differ between certificates", async () => {
    const a = await generateSelfSigned({ hostnames: ["localhost"], ips: [] });
    const b = await generateSelfSigned({ hostnames: ["localhost"], ips: [] });
    expect(new X509Certificate(a.certPem).serialNumber).not.toBe(new X509Certificate(b.certPem).serialNumber);
  });

  test("honours days and commonName, and refuses lifetimes clients reject", async () => {
    const { certPem } = await generateSelfSigned({ hostnames: ["box.lan"], ips: [], days: 30, commonName: "my voicesrv" });
    const info = inspectCertificate(certPem);
    expect(info.notAfter.getTime() - info.notBefore.getTime()).toBe(30 * DAY_MS);
    expect(info.subject).toBe("CN=my voicesrv");
    await expect(generateSelfSigned({ hostnames: ["localhost"], ips: [], days: MAX_SERVER_DAYS + 1 })).rejects.toThrow(RangeError);
  });

  test("rejects names that cannot go into a SAN", async () => {
    await expect(generateSelfSigned({ hostnames: ["bad host"], ips: [] })).rejects.toMatchObject({ code: "invalid-name" });
    await expect(generateSelfSigned({ hostnames: [], ips: ["localhost"] })).rejects.toMatchObject({ code: "invalid-name" });
    await expect(generateSelfSigned({ hostnames: [], ips: [] })).rejects.toMatchObject({ code: "invalid-name" });
  });
});

describe("defaultNames", () => {
  test("loopback, the machine's hostname and <hostname>.local, and its LAN addresses", () => {
    expect(defaultNames("pi5", ["192.168.1.20", "10.0.0.7"])).toEqual({ hostnames: ["localhost", "pi5", "pi5.local"], ips: ["127.0.0.1", "::1", "192.168.1.20", "10.0.0.7"] });
    // A fully qualified hostname keeps its name; .local is made from its first label.
    expect(defaultNames("pi5.home.arpa", []).hostnames).toEqual(["localhost", "pi5.home.arpa", "pi5.local"]);
    expect(defaultNames("pi5.local", []).hostnames).toEqual(["localhost", "pi5.local"]);
  });

  test("LAN addresses are the non-internal IPv4 ones of every interface", () => {
    const ifs = {
      lo: [{ address: "127.0.0.1", family: "IPv4", internal: true }],
      eth0: [
        { address: "192.168.1.20", family: "IPv4", internal: false },
        { address: "fe80::1", family: "IPv6", internal: false },
      ],
      wlan0: [{ address: "10.0.0.7", family: "IPv4", internal: false }],
    } as unknown as Parameters<typeof lanAddresses>[0];
    expect(lanAddresses(ifs)).toEqual(["192.168.1.20", "10.0.0.7"]);
  });

  test("skips an empty or localhost hostname", () => {
    expect(defaultNames("").hostnames).toEqual(["localhost"]);
    expect(defaultNames("localhost").hostnames).toEqual(["localhost"]);
  });

  test("the defaults are usable for a certificate", async () => {
    const names = defaultNames();
    const { certPem } = await generateSelfSigned(names);
    const san = new X509Certificate(certPem).subjectAltName ?? "";
    for (const host of names.hostnames) expect(san).toContain(`DNS:${host}`);
  });
});

test("defaultNames leaves out a hostname that is not a DNS name", () => {
  expect(defaultNames("My Laptop").hostnames).toEqual(["localhost"]);
  expect(defaultNames("Pi-Kitchen").hostnames).toEqual(["localhost", "pi-kitchen", "pi-kitchen.local"]);
});
