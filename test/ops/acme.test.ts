// `voicesrv cert acme` and ACME renewal against a real ACME server (pebble, test/helpers/pebble.ts):
// issuance, renewal during a live WSS call, a failed challenge, and reuse of the account key.
// The CLI runs as a subprocess, as the operator and the renewal timer run it.
import { readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { inspectCertificate } from "../../certs/index.ts";
import { decodeMediaHeader } from "../../protocol/media-header.ts";
import { resolveConfig } from "../../server/config.ts";
import { startServer, type RunningServer } from "../../server/index.ts";
import { silentLogger } from "../../server/logger.ts";
import { freePort, startPebble, type Pebble } from "../helpers/pebble.ts";
import { connectedCallAt, streamBothWays } from "../helpers/calls.ts";

const repo = join(import.meta.dirname, "../..");
const bun = join(repo, "node_modules/.bin/bun");
const cleanups: (() => Promise<unknown> | unknown)[] = [];
let pebble: Pebble;

beforeAll(async () => {
  pebble = await startPebble();
}, 30_000);
afterAll(async () => {
  await pebble?.stop();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function dataDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "voicesrv-acme-"));
  cleanups.push(() => rm(d, { recursive: true, force: true }));
  return d;
}

async function cli(args: string[]) {
  const p = Bun.spawn([bun, "cli/main.ts", ...args], { cwd: repo, env: { ...process.env, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

const common = (dir: string) => ["-d", dir, "--config", "/nonexistent", "-H", "127.0.0.1"];
const acmeArgs = (dir: string, port = pebble.challengePort) => ["cert", "acme", "--domain", "localhost", "--directory", pebble.directoryUrl, "--directory-ca", pebble.directoryCaFile, "--challenge-port", String(port), ...common(dir), "--json"];

/** Connects trusting only pebble's issuing root and checks the name as a browser would. */
function verifiedPeer(port: number, root: string): Promise<{ authorized: boolean; fingerprint?: string; error?: string }> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: "127.0.0.1", port, servername: "localhost", ca: root, rejectUnauthorized: true }, () => {
      const fingerprint = s.getPeerX509Certificate()!.fingerprint256;
      s.end();
      resolve({ authorized: s.authorized, fingerprint });
    });
    s.on("error", (e: NodeJS.ErrnoException) => resolve({ authorized: false, error: e.code ?? e.message }));
  });
}

async function serve(dir: string): Promise<RunningServer> {
  const s = await startServer(resolveConfig([{ host: "127.0.0.1", port: 0, dataDir: dir }]), silentLogger);
  cleanups.push(() => s.stop(2000));
  return s;
}

const certOf = (dir: string) => readFileSync(join(dir, "certs/cert.pem"), "utf8");
const settingsOf = (dir: string) => JSON.parse(readFileSync(join(dir, "certs/acme/settings.json"), "utf8"));

describe("cert acme against pebble", () => {
  test("issues a certificate that clients trusting the CA accept for the domain; the account key is 0600 and reused", async () => {
    const dir = await dataDir();
    const r = await cli(acmeArgs(dir));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    console.log(`ACME issuance against pebble took ${out.elapsedMs} ms`);
    expect(out).toMatchObject({ obtained: true, domain: "localhost", accountCreated: true, info: { sans: { dns: ["localhost"] } } });
    expect(out.info.issuer).toMatch(/Pebble Intermediate CA/);
    expect(readFileSync(join(dir, "certs/kind"), "utf8").trim()).toBe("acme");
    const keyFile = join(dir, "certs/acme/account-key.pem");
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "certs/key.pem")).mode & 0o777).toBe(0o600);
    const accountKey = readFileSync(keyFile, "utf8");

    // A server started on the data dir serves it, and a client that trusts only pebble's root
    // verifies it for "localhost" (full verification, nothing disabled).
    const s = await serve(dir);
    const root = await pebble.issuingRoot();
    expect(await verifiedPeer(s.port, root)).toMatchObject({ authorized: true, fingerprint: inspectCertificate(certOf(dir)).fingerprint256 });
    // …and one trusting nothing but the system roots refuses it: the trust comes from the CA.
    expect((await verifiedPeer(s.port, readFileSync(pebble.directoryCaFile, "utf8"))).authorized).toBe(false);

    // `cert show` and `status` report the issuer and the next renewal (a third of the lifetime before expiry).
    const show = await cli(["cert", "show", "-d", dir, "--config", "/nonexistent", "--json"]);
    const shown = JSON.parse(show.stdout);
    expect(shown).toMatchObject({ kind: "acme", issuer: expect.stringMatching(/Pebble/), nextRenewal: expect.any(String) });
    const lifetime = Date.parse(shown.notAfter) - Date.parse(shown.notBefore);
    expect(Math.abs(Date.parse(shown.nextRenewal) - (Date.parse(shown.notAfter) - Math.max(30 * 86_400_000, lifetime / 3)))).toBeLessThan(1000);
    const status = await cli(["status", "--url", `https://127.0.0.1:${s.port}`, "-d", dir, "--config", "/nonexistent", "--json"]);
    expect(JSON.parse(status.stdout).certificate).toMatchObject({ kind: "acme", issuer: expect.stringMatching(/Pebble/), nextRenewal: shown.nextRenewal });

    // Renewing asks the same account again: same key file, same account URL, a new certificate.
    const before = certOf(dir);
    await s.stop(1000);
    const again = await cli(["cert", "renew", ...common(dir), "--json", "--no-reload"]);
    expect(again.stderr).toBe("");
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ renewed: true, kind: "acme" });
    expect(readFileSync(keyFile, "utf8")).toBe(accountKey);
    expect(settingsOf(dir).accountUrl).toBe(out.accountUrl);
    expect(certOf(dir)).not.toBe(before);
  }, 60_000);

  test("a failed challenge says the port is not reachable and keeps the old certificate", async () => {
    const dir = await dataDir();
    expect((await cli(acmeArgs(dir))).code).toBe(0);
    const before = certOf(dir);
    // voicesrv answers on another port than the one the CA connects to: nothing answers there.
    const elsewhere = await freePort();
    const r = await cli(acmeArgs(dir, elsewhere));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^voicesrv: no certificate for localhost: port ${elsewhere} is not reachable from the internet: .*connection refused`));
    expect(r.stderr).toMatch(/The current certificate stays in use \(\d+ days left\); the timer tries again after /);
    expect(certOf(dir)).toBe(before);
    expect(readFileSync(join(dir, "certs/kind"), "utf8").trim()).toBe("acme");
    const settings = settingsOf(dir);
    expect(settings.failures).toBe(1);
    expect(Date.parse(settings.retryAfter)).toBeGreaterThan(Date.now() + 3_600_000);

    // The timer respects the backoff instead of asking the CA again at once.
    const timer = await cli(["cert", "renew", ...common(dir), "--if-expiring-within", "30", "--json", "--no-reload"]);
    expect(timer.code).toBe(0);
    expect(JSON.parse(timer.stdout)).toMatchObject({ renewed: false, kind: "acme", reason: expect.stringMatching(/next ACME renewal attempt after/) });
    expect(certOf(dir)).toBe(before);
  }, 60_000);

  test("another program on the challenge port is named before the CA is asked; nothing is written", async () => {
    const dir = await dataDir();
    const other = Bun.serve({ hostname: "127.0.0.1", port: pebble.challengePort, fetch: () => new Response("it works", { status: 200 }) });
    cleanups.push(() => other.stop(true));
    const r = await cli(acmeArgs(dir));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(new RegExp(`^voicesrv: no certificate for localhost: port ${pebble.challengePort} is taken by another program, which does not answer voicesrv's ACME challenges: stop it`));
    expect(() => certOf(dir)).toThrow();
  }, 60_000);

  test("the renewal timer renews through the running server's challenge listener while a call keeps every frame", async () => {
    const dir = await dataDir();
    expect((await cli(acmeArgs(dir))).code).toBe(0);
    const s = await serve(dir);
    const root = await pebble.issuingRoot();
    const first = await verifiedPeer(s.port, root);
    expect(first.authorized).toBe(true);
    // The server now holds the challenge port and redirects anything else there to https.
    const redirect = await fetch(`http://127.0.0.1:${pebble.challengePort}/family?x=1`, { redirect: "manual", headers: { host: "localhost" } });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get("location")).toBe(`https://localhost:${s.port}/family?x=1`);

    const call = await connectedCallAt(`wss://127.0.0.1:${s.port}/ws/family`);
    const { a: caller, b: callee } = call;
    cleanups.push(() => {
      caller.close();
      callee.close();
    });
    const stream = streamBothWays(call, 3);
    cleanups.push(stream.stop);
    await Bun.sleep(300);

    // What the systemd timer runs (pebble's certificates live 10 days: a third is left, so it is due).
    const r = await cli(["cert", "renew", ...common(dir), "--if-expiring-within", "30", "--json", "--no-reload"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ renewed: true, kind: "acme" });
    await s.reloadCertificate();
    await Bun.sleep(400);
    stream.stop();
    await Bun.sleep(150);

    const lost = stream.sent.a - callee.frames.length + (stream.sent.b - caller.frames.length);
    console.log(`frames sent during ACME renewal: ${stream.sent.a + stream.sent.b}, lost: ${lost}`);
    expect(caller.closed).toBeNull();
    expect(callee.closed).toBeNull();
    expect(lost).toBe(0);
    const seqs = callee.frames.map((f) => decodeMediaHeader(f).seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));

    const now = await verifiedPeer(s.port, root);
    expect(now.authorized).toBe(true);
    expect(now.fingerprint).not.toBe(first.fingerprint);
    expect(now.fingerprint).toBe(inspectCertificate(certOf(dir)).fingerprint256);
  }, 60_000);
});
