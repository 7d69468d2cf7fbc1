// Every URL install and serve print is covered by the certificate they use, checked the way a
// TLS client checks it (node:tls checkServerIdentity against the certificate a real server
// presents); --san adds names instead of replacing them; doctor names addresses a certificate
// misses. install prints openUrlLines(openUrls(...)) for the certificate its install step made
// (ensureCertificate, the same call serve makes on first start), so that pair is tested here.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls, { type PeerCertificate } from "node:tls";
import { afterEach, describe, expect, test } from "vitest";
import { ensureCertificate, generateSelfSigned, inspectCertificate, lanAddresses, machineHostnames, sortNames, writeCertificatePair } from "../../certs/index.ts";
import { renewCertificate } from "../../cli/ops/cert-ops.ts";
import { OPEN_URLS_HINT, openUrlLines, openUrls } from "../../cli/ops/lan-urls.ts";
import { resolveConfig } from "../../server/config.ts";
import { startServer } from "../../server/index.ts";
import { silentLogger } from "../../server/logger.ts";

const repo = join(import.meta.dirname, "../..");
const bun = join(repo, "node_modules/.bin/bun");
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "voicesrv-urls-"));
  cleanups.push(() => rm(d, { recursive: true, force: true }));
  return d;
}

/** The certificate a real server on dataDir presents (verification is what this test does by hand). */
async function presented(dataDir: string): Promise<{ cert: PeerCertificate; port: number }> {
  const s = await startServer(resolveConfig([{ host: "127.0.0.1", port: 0, dataDir }]), silentLogger);
  cleanups.push(() => s.stop(1000));
  const cert = await new Promise<PeerCertificate>((resolve, reject) => {
    const sock = tls.connect({ host: "127.0.0.1", port: s.port, rejectUnauthorized: false }, () => {
      resolve(sock.getPeerCertificate());
      sock.end();
    });
    sock.on("error", reject);
  });
  return { cert, port: s.port };
}

function hostOf(url: string): string {
  return new URL(url).hostname.replace(/^\[(.*)\]$/, "$1");
}

/** undefined when a browser would accept the certificate for the URL's host. */
function identityError(url: string, cert: PeerCertificate): Error | undefined {
  return tls.checkServerIdentity(hostOf(url), cert);
}

describe("URLs printed by install and serve", () => {
  test("a wildcard bind lists this machine's names, <name>.local, every LAN address and localhost, all covered", async () => {
    const dir = await tempDir();
    await ensureCertificate(join(dir, "certs"));
    const pem = await readFile(join(dir, "certs/cert.pem"), "utf8");
    const { cert, port } = await presented(dir);
    const urls = openUrls("0.0.0.0", port, inspectCertificate(pem));
    expect(urls.uncovered).toEqual([]);
    const expected = [...machineHostnames(), ...lanAddresses(), "localhost"].map((h) => `https://${h}:${port}`);
    expect(urls.covered).toEqual(expected);
    for (const u of urls.covered) expect(identityError(u, cert), u).toBeUndefined();
    // What install prints: exactly those, and no warning.
    expect(openUrlLines(urls, "self-signed")).toEqual(expected.map((u) => `  ${u}/`));
    // No guessable example group (README: use a private group); the private-group way instead.
    expect(OPEN_URLS_HINT).not.toMatch(/\/family/);
    expect(OPEN_URLS_HINT).toMatch(/private group in the app .*voicesrv group create/);
  });

  test("--san adds to the machine's names (and is remembered for renewals); the new names are printed and covered", async () => {
    const dir = await tempDir();
    const certDir = join(dir, "certs");
    await renewCertificate(certDir, { names: sortNames(["voice.home.arpa", "192.0.2.9"]) });
    const info = inspectCertificate(await readFile(join(certDir, "cert.pem"), "utf8"));
    expect(info.sans.dns).toEqual(expect.arrayContaining(["voice.home.arpa", "localhost", ...machineHostnames()]));
    expect(info.sans.ip).toEqual(expect.arrayContaining(["192.0.2.9", "127.0.0.1", "::1", ...lanAddresses()]));
    expect(info.subject).toBe("CN=voice.home.arpa");

    // A renewal without names keeps them.
    await renewCertificate(certDir);
    const { cert, port } = await presented(dir);
    const urls = openUrls("0.0.0.0", port, inspectCertificate(await readFile(join(certDir, "cert.pem"), "utf8")));
    expect(urls.uncovered).toEqual([]);
    expect(urls.covered).toContain(`https://voice.home.arpa:${port}`);
    expect(urls.covered).toContain(`https://192.0.2.9:${port}`);
    for (const u of urls.covered) expect(identityError(u, cert), u).toBeUndefined();
  });

  test("a URL the certificate misses is never listed as one to open, only named in a warning with the fix", async () => {
    const dir = await tempDir();
    const old = await generateSelfSigned({ hostnames: ["localhost"], ips: ["127.0.0.1", "192.0.2.200"] });
    await writeCertificatePair(join(dir, "certs"), old.certPem, old.keyPem);
    const urls = openUrls("127.0.0.2", 22000, inspectCertificate(old.certPem));
    expect(urls).toEqual({ covered: [], uncovered: ["https://127.0.0.2:22000"] });
    const lines = openUrlLines(urls, "self-signed");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^warning: the certificate does not cover https:\/\/127\.0\.0\.2:22000: a phone opening it gets a name-mismatch error — `sudo voicesrv cert renew` adds/);
  });

  test("serve prints every URL it answers on, each covered by the certificate it serves, and that certificate's SHA-256", async () => {
    const dir = await tempDir();
    await renewCertificate(join(dir, "certs"), { names: sortNames(["voice.home.arpa"]) });
    const child = Bun.spawn([bun, "cli/main.ts", "serve", "-H", "127.0.0.1", "-p", "0", "-d", dir, "--config", "/nonexistent"], { cwd: repo, stdout: "pipe", stderr: "pipe" });
    cleanups.push(async () => {
      child.kill("SIGTERM");
      await child.exited;
    });
    const reader = child.stdout.getReader();
    let out = "";
    while (!/certificate SHA-256/.test(out)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`serve exited: ${out}`);
      out += new TextDecoder().decode(value);
    }
    const port = Number(out.match(/listening on https:\/\/127\.0\.0\.1:(\d+)/)![1]);
    const printed = [...out.matchAll(/reachable at (\S+)\/<group>/g)].map((m) => m[1]!);
    expect(printed).toEqual([`https://127.0.0.1:${port}`]);
    const fp = out.match(/certificate SHA-256 ([0-9A-F:]{95})/)![1];
    const cert = await new Promise<PeerCertificate>((resolve, reject) => {
      const sock = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
        resolve(sock.getPeerCertificate());
        sock.end();
      });
      sock.on("error", reject);
    });
    expect(cert.fingerprint256).toBe(fp);
    for (const u of printed) expect(identityError(u, cert), u).toBeUndefined();
    expect(out).not.toMatch(/does not cover/);
  });
});

describe("doctor checks the certificate against the addresses the box has now", () => {
  function doctor(dataDir: string, host: string) {
    const r = Bun.spawnSync([bun, "cli/main.ts", "doctor", "--json", "-d", dataDir, "--config", "/nonexistent", "-H", host, "-p", "1"], { cwd: repo, env: { ...process.env, PATH: "/usr/bin:/bin" } });
    return JSON.parse(r.stdout.toString()).checks.find((c: { name: string }) => c.name === "certificate names") as { level: string; detail: string; fix?: string };
  }

  test("an address the certificate lacks (DHCP moved the box) is a warning whose fix is cert renew; after it, ok", async () => {
    const dir = await tempDir();
    const certDir = join(dir, "certs");
    // Made when the box had other addresses: only loopback and an address it no longer has.
    const old = await generateSelfSigned({ hostnames: ["localhost"], ips: ["127.0.0.1", "192.0.2.200"] });
    await writeCertificatePair(certDir, old.certPem, old.keyPem);
    const own = [...machineHostnames(), ...lanAddresses()];
    const wild = doctor(dir, "0.0.0.0");
    if (own.length > 0) {
      expect(wild.level).toBe("warn");
      for (const h of own) expect(wild.detail).toContain(`https://${h}:1`);
      expect(wild.fix).toMatch(/^sudo voicesrv cert renew/);
    }
    // A bind address the certificate does not name is the same problem on any machine.
    const specific = doctor(dir, "127.0.0.2");
    expect(specific).toMatchObject({ level: "warn", detail: expect.stringContaining("https://127.0.0.2:1") });

    await renewCertificate(certDir);
    expect(doctor(dir, "0.0.0.0")).toMatchObject({ level: "ok" });
  });
});
