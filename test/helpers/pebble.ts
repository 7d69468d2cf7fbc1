// A real ACME server for tests: Debian's `pebble` (Let's Encrypt's own test CA), started on
// 127.0.0.1 with ports the kernel picked, its HTTPS served with a CA this helper makes, and its
// HTTP-01 validation pointed at `challengePort` on this box. Names are resolved by pebble through
// the system resolver, so the tests use "localhost" (127.0.0.1 through /etc/hosts): no traffic
// leaves loopback and no DNS server is needed.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCA, issueServerCertificate } from "../../certs/index.ts";

export const PEBBLE_BINARY = "/usr/bin/pebble";

export interface Pebble {
  directoryUrl: string;
  /** File with the CA that signs pebble's own HTTPS certificate (for --directory-ca). */
  directoryCaFile: string;
  /** The port pebble connects to for HTTP-01. */
  challengePort: number;
  /** PEM of the root that signs the certificates pebble issues (new on every start). */
  issuingRoot(): Promise<string>;
  log(): string;
  stop(): Promise<void>;
}

/** A port nobody listens on right now (the kernel's choice), for a listener started later. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startPebble(opts: { challengePort?: number; validitySeconds?: number } = {}): Promise<Pebble> {
  if (!existsSync(PEBBLE_BINARY)) throw new Error(`${PEBBLE_BINARY} is missing: apt-get install pebble (.ci/run installs it)`);
  const dir = mkdtempSync(join(tmpdir(), "voicesrv-pebble-"));
  const ca = await createCA({ commonName: "voicesrv test CA for pebble", days: 2 });
  const tls = await issueServerCertificate(ca, { hostnames: ["localhost"], ips: ["127.0.0.1"], days: 2 });
  writeFileSync(join(dir, "ca.pem"), ca.certPem);
  writeFileSync(join(dir, "cert.pem"), tls.certPem);
  writeFileSync(join(dir, "key.pem"), tls.keyPem, { mode: 0o600 });
  const [listen, management, tlsPort] = [await freePort(), await freePort(), await freePort()];
  const challengePort = opts.challengePort ?? (await freePort());
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${listen}`,
      managementListenAddress: `127.0.0.1:${management}`,
      certificate: join(dir, "cert.pem"),
      privateKey: join(dir, "key.pem"),
      httpPort: challengePort,
      tlsPort,
      ocspResponderURL: "",
      externalAccountBindingRequired: false,
      certificateValidityPeriod: opts.validitySeconds ?? 10 * 86_400,
    },
  };
  writeFileSync(join(dir, "pebble.json"), JSON.stringify(config));
  const proc = Bun.spawn([PEBBLE_BINARY, "-config", join(dir, "pebble.json")], {
    cwd: dir,
    // No random 0-15 s validation delays; a fresh authorization every order, so a test that expects
    // a challenge always gets one (pebble otherwise reuses half of them).
    env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_AUTHZREUSE: "0" },
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) output += decoder.decode(chunk);
  };
  void pump(proc.stdout);
  void pump(proc.stderr);
  const deadline = Date.now() + 20_000;
  while (!output.includes("ACME directory available")) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill();
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`pebble did not start: ${output}`);
    }
    await Bun.sleep(50);
  }
  const caPem = ca.certPem;
  return {
    directoryUrl: `https://127.0.0.1:${listen}/dir`,
    directoryCaFile: join(dir, "ca.pem"),
    challengePort,
    async issuingRoot() {
      const res = await fetch(`https://127.0.0.1:${management}/roots/0`, { tls: { ca: caPem } });
      return res.text();
    },
    log: () => output,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
