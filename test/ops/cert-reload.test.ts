// Certificate changes against a real server: renew while a WSS call relays media, import
// validation, private-CA mode, and the PID-file SIGHUP path of `voicesrv cert renew`.
import { readdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { afterEach, describe, expect, test } from "vitest";
import { createCA, generateSelfSigned, inspectCertificate, issueServerCertificate } from "../../certs/index.ts";
import { decodeMediaHeader } from "../../protocol/media-header.ts";
import { renewCertificate, switchToPrivateCA } from "../../cli/ops/cert-ops.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { connectedCall, streamBothWays } from "../helpers/calls.ts";
import { waitForListening } from "../helpers/process.ts";

const repo = join(import.meta.dirname, "../..");
const bun = join(repo, "node_modules/.bin/bun");
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function peerFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const fp = s.getPeerX509Certificate()!.fingerprint256;
      s.end();
      resolve(fp);
    });
    s.on("error", reject);
  });
}

/** A TLS client that trusts only `ca` (or nothing but the default roots): did verification pass? */
function httpsGetVerified(port: number, opts: { ca?: string; servername?: string }): Promise<{ authorized: boolean; error?: string }> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: "127.0.0.1", port, ca: opts.ca, servername: opts.servername, rejectUnauthorized: true }, () => {
      const authorized = s.authorized;
      s.end();
      resolve({ authorized });
    });
    s.on("error", (e: NodeJS.ErrnoException) => resolve({ authorized: false, error: e.code ?? e.message }));
  });
}

function diskFingerprint(server: TestServer): string {
  return inspectCertificate(readFileSync(join(server.dataDir, "certs/cert.pem"), "utf8")).fingerprint256;
}

async function server(): Promise<TestServer> {
  const s = await startTestServer();
  cleanups.push(() => s.close());
  return s;
}

function cli(args: string[]) {
  const r = Bun.spawnSync([bun, "cli/main.ts", ...args], { cwd: repo, env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe("cert renew during a call", () => {
  test("media keeps flowing across renew + reload, and new connections get the new certificate", async () => {
    const s = await server();
    const call = await connectedCall(s, "family");
    const { a: caller, b: callee } = call;
    cleanups.push(() => {
      caller.close();
      callee.close();
    });

    const oldFingerprint = await peerFingerprint(s.port);
    expect(oldFingerprint).toBe(diskFingerprint(s));

    // 50 frames/s each way (the 20 ms cadence of a real call), below the 60/s limit.
    const stream = streamBothWays(call, 7);
    cleanups.push(stream.stop);

    await Bun.sleep(500);
    const beforeRenew = { caller: caller.frames.length, callee: callee.frames.length };
    expect(beforeRenew.caller).toBeGreaterThan(10);
    expect(beforeRenew.callee).toBeGreaterThan(10);

    const result = await renewCertificate(join(s.dataDir, "certs"));
    expect(result.renewed).toBe(true);
    // What SIGHUP runs in `serve`: a second listener with the new certificate, the old one drains.
    await s.reloadCertificate();

    await Bun.sleep(600);
    stream.stop();
    await Bun.sleep(100);

    // Both sockets are still open and every frame sent arrived, in order, across the swap.
    expect(caller.closed).toBeNull();
    expect(callee.closed).toBeNull();
    expect(callee.frames.length).toBe(stream.sent.a);
    expect(caller.frames.length).toBe(stream.sent.b);
    expect(callee.frames.length).toBeGreaterThan(beforeRenew.callee + 20);
    const seqs = callee.frames.map((f) => decodeMediaHeader(f).seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(s.hub.counts().calls).toBe(1);

    const newFingerprint = await peerFingerprint(s.port);
    expect(newFingerprint).not.toBe(oldFingerprint);
    expect(newFingerprint).toBe(diskFingerprint(s));
  });

  test("--if-expiring-within renews only a certificate close to expiry, and never an imported one", async () => {
    const dir = await mkdtemp(join(tmpdir(), "voicesrv-renew-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const fresh = await renewCertificate(join(dir, "certs"));
    expect(fresh.renewed).toBe(true);
    const skip = await renewCertificate(join(dir, "certs"), { ifExpiringWithin: 30 });
    expect(skip).toMatchObject({ renewed: false });

    const short = await generateSelfSigned({ hostnames: ["localhost"], ips: ["127.0.0.1"], days: 10 });
    writeFileSync(join(dir, "short.pem"), short.certPem);
    writeFileSync(join(dir, "short-key.pem"), short.keyPem);
    const imported = cli(["cert", "import", "-d", dir, "--config", "/nonexistent", "--cert", join(dir, "short.pem"), "--key", join(dir, "short-key.pem"), "--no-reload"]);
    expect(imported.code).toBe(0);
    const timer = cli(["cert", "renew", "-d", dir, "--config", "/nonexistent", "--if-expiring-within", "30", "--json"]);
    expect(timer.code).toBe(0);
    expect(JSON.parse(timer.stdout)).toMatchObject({ renewed: false, kind: "imported" });
    expect(readFileSync(join(dir, "certs/cert.pem"), "utf8")).toBe(short.certPem);

    // A self-signed certificate with 10 days left is renewed by the timer's command.
    await renewCertificate(join(dir, "certs"), { selfSigned: true, days: 10 });
    const renewed = cli(["cert", "renew", "-d", dir, "--config", "/nonexistent", "--if-expiring-within", "30", "--json", "--no-reload"]);
    expect(renewed.code).toBe(0);
    expect(JSON.parse(renewed.stdout)).toMatchObject({ renewed: true, kind: "self-signed", info: { daysLeft: 396 } });
  });
});

describe("cert import", () => {
  test("rejects a key that does not belong to the certificate, and an expired certificate, changing nothing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "voicesrv-import-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await renewCertificate(join(dir, "certs"));
    const installed = readFileSync(join(dir, "certs/cert.pem"), "utf8");

    const one = await generateSelfSigned({ hostnames: ["voice.example.org"], ips: [] });
    const two = await generateSelfSigned({ hostnames: ["voice.example.org"], ips: [] });
    writeFileSync(join(dir, "one.pem"), one.certPem);
    writeFileSync(join(dir, "two-key.pem"), two.keyPem);
    const mismatch = cli(["cert", "import", "-d", dir, "--config", "/nonexistent", "--cert", join(dir, "one.pem"), "--key", join(dir, "two-key.pem")]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr.trim()).toMatch(/^voicesrv: not imported: The private key does not belong to this certificate/);

    const old = await generateSelfSigned({ hostnames: ["voice.example.org"], ips: [], notBefore: new Date("2020-01-01T00:00:00Z"), notAfter: new Date("2020-06-01T00:00:00Z") });
    writeFileSync(join(dir, "old.pem"), old.certPem);
    writeFileSync(join(dir, "old-key.pem"), old.keyPem);
    const expired = cli(["cert", "import", "-d", dir, "--config", "/nonexistent", "--cert", join(dir, "old.pem"), "--key", join(dir, "old-key.pem")]);
    expect(expired.code).toBe(1);
    expect(expired.stderr.trim()).toMatch(/^voicesrv: not imported: The certificate expired on 2020-06-01/);

    const missing = cli(["cert", "import", "-d", dir, "--config", "/nonexistent", "--cert", join(dir, "nope.pem"), "--key", join(dir, "old-key.pem")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("nope.pem: no such file");

    expect(readFileSync(join(dir, "certs/cert.pem"), "utf8")).toBe(installed);
  });

  test("a valid pair (certificate + chain from a CA) is switched to by the running server", async () => {
    const s = await server();
    const ca = await createCA();
    const leaf = await issueServerCertificate(ca, { hostnames: ["localhost"], ips: ["127.0.0.1"] });
    writeFileSync(join(s.dataDir, "full.pem"), leaf.certPem);
    writeFileSync(join(s.dataDir, "priv.pem"), leaf.keyPem);
    const r = cli(["cert", "import", "-d", s.dataDir, "--config", "/nonexistent", "--cert", join(s.dataDir, "full.pem"), "--key", join(s.dataDir, "priv.pem"), "--no-reload", "--json"]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(s.dataDir, "certs/kind"), "utf8").trim()).toBe("imported");
    await s.reloadCertificate();
    expect(await httpsGetVerified(s.port, { ca: ca.certPem, servername: "localhost" })).toMatchObject({ authorized: true });
  });
});

describe("cert ca (private CA mode)", () => {
  test("a client trusting only the CA verifies the server, and GET /ca.pem offers the CA certificate", async () => {
    const s = await server();
    const before = await fetch(`https://127.0.0.1:${s.port}/ca.pem`, { tls: { rejectUnauthorized: false } });
    expect(before.status).toBe(404);

    const { ca, caCreated } = await switchToPrivateCA(join(s.dataDir, "certs"));
    expect(caCreated).toBe(true);
    await s.reloadCertificate();
    const caPem = readFileSync(join(s.dataDir, "certs/ca/ca.pem"), "utf8");
    expect(inspectCertificate(caPem).fingerprint256).toBe(ca.fingerprint256);
    expect((await import("node:fs")).statSync(join(s.dataDir, "certs/ca/ca-key.pem")).mode & 0o777).toBe(0o600);

    expect(await httpsGetVerified(s.port, { ca: caPem, servername: "localhost" })).toMatchObject({ authorized: true });
    expect(await httpsGetVerified(s.port, { ca: caPem })).toMatchObject({ authorized: true });
    expect(await httpsGetVerified(s.port, { servername: "localhost" })).toMatchObject({ authorized: false });

    const res = await fetch(`https://127.0.0.1:${s.port}/ca.pem`, { tls: { ca: caPem } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-x509-ca-cert");
    const body = await res.text();
    expect(body).toBe(caPem);
    expect(body).not.toContain("PRIVATE KEY");

    // Renewal in CA mode issues from the same CA, so devices that trust it keep working.
    const renewed = await renewCertificate(join(s.dataDir, "certs"));
    expect(renewed).toMatchObject({ renewed: true, kind: "ca" });
    await s.reloadCertificate();
    expect(await httpsGetVerified(s.port, { ca: caPem, servername: "localhost" })).toMatchObject({ authorized: true });
  });
});

describe("cert renew signals a server started by hand", () => {
  test("`serve` writes its PID file; `cert renew` sends it SIGHUP and new connections see the new certificate", async () => {
    const dir = await mkdtemp(join(tmpdir(), "voicesrv-serve-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const child = Bun.spawn([bun, "cli/main.ts", "serve", "-H", "127.0.0.1", "-p", "0", "-d", dir, "--config", "/nonexistent"], { cwd: repo, stdout: "pipe", stderr: "pipe" });
    cleanups.push(async () => {
      child.kill("SIGTERM");
      await child.exited;
    });
    const reader = child.stdout.getReader();
    let out = "";
    let port = 0;
    while (!port) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`serve exited: ${out}`);
      out += new TextDecoder().decode(value);
      port = Number(out.match(/listening on https:\/\/127\.0\.0\.1:(\d+)/)?.[1] ?? 0);
    }
    await Bun.sleep(100);
    expect(readFileSync(join(dir, "voicesrv.pid"), "utf8").trim()).toBe(String(child.pid));
    const before = await peerFingerprint(port);

    const r = cli(["cert", "renew", "-d", dir, "--config", "/nonexistent"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`sent SIGHUP to voicesrv (PID ${child.pid}, via pid-file)`);
    const onDisk = inspectCertificate(readFileSync(join(dir, "certs/cert.pem"), "utf8")).fingerprint256;
    let now = before;
    for (let i = 0; i < 50 && now !== onDisk; i++) {
      await Bun.sleep(50);
      now = await peerFingerprint(port);
    }
    expect(now).toBe(onDisk);
    expect(now).not.toBe(before);
  });
});

describe("a reload never creates or overwrites certificate files (issue #13)", () => {
  test("SIGHUP with certs/cert.pem missing: the imported key stays untouched, the old certificate keeps serving, the log says why", async () => {
    const dir = await mkdtemp(join(tmpdir(), "voicesrv-hup-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    // An imported pair, as an operator with their own certificate has it.
    const own = await generateSelfSigned({ hostnames: ["voice.example.org"], ips: ["127.0.0.1"] });
    writeFileSync(join(dir, "own.pem"), own.certPem);
    writeFileSync(join(dir, "own-key.pem"), own.keyPem);
    expect(cli(["cert", "import", "-d", dir, "--config", "/nonexistent", "--cert", join(dir, "own.pem"), "--key", join(dir, "own-key.pem"), "--no-reload"]).code).toBe(0);

    const child = Bun.spawn([bun, "cli/main.ts", "serve", "-H", "127.0.0.1", "-p", "0", "-d", dir, "--config", "/nonexistent"], { cwd: repo, stdout: "pipe", stderr: "pipe" });
    cleanups.push(async () => {
      child.kill("SIGTERM");
      await child.exited;
    });
    const port = await waitForListening(child);
    const served = await peerFingerprint(port);
    expect(served).toBe(inspectCertificate(own.certPem).fingerprint256);
    const certsDir = join(dir, "certs");
    const keyBefore = readFileSync(join(certsDir, "key.pem"), "utf8");
    unlinkSync(join(certsDir, "cert.pem"));
    const listing = readdirSync(certsDir).sort();

    child.kill("SIGHUP");
    const reader = child.stderr.getReader();
    let err = "";
    const end = Date.now() + 10_000;
    while (!/certificate reload failed/.test(err) && Date.now() < end) {
      const { value, done } = await Promise.race([reader.read(), Bun.sleep(200).then(() => ({ value: undefined, done: false }))]);
      if (done) break;
      if (value) err += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    expect(err).toMatch(/certificate reload failed, keeping the old one: .*cert\.pem is missing/);
    // Nothing written: no new certificate, the operator's key byte for byte, no stray files.
    expect(readdirSync(certsDir).sort()).toEqual(listing);
    expect(readFileSync(join(certsDir, "key.pem"), "utf8")).toBe(keyBefore);
    expect(readFileSync(join(certsDir, "kind"), "utf8").trim()).toBe("imported");
    // Still serving the imported certificate, and still running.
    expect(await peerFingerprint(port)).toBe(served);
    expect(child.exitCode).toBeNull();
  });
});
