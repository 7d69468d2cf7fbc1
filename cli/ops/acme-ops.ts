// `voicesrv cert acme` and the ACME half of `cert renew`: remembers the request (certs/acme-state.ts),
// makes sure something answers HTTP-01 on the challenge port, asks the CA, and installs the result
// like any other certificate (kind "acme"). Decisions:
// - Who answers the challenge: a running voicesrv already holds the port (server/index.ts), so the
//   token is dropped into the shared directory and checked locally through that listener; with no
//   server running, this process opens the same listener for the duration of the order.
// - A failure keeps the installed certificate untouched and records when to try again: the daily
//   timer backs off (20 h, 40 h, then every 4 days) so a broken setup never hammers the CA's rate
//   limits, but retries daily again once the certificate is within 7 days of expiry.
// - Renewal is due a third of the lifetime before expiry (30 days for a 90-day certificate), or
//   earlier when `--if-expiring-within` asks for more.
import { randomBytes } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Server } from "bun";
import { ensurePrivateDirectory, refuseSymlink, writeFileAtomic, type FileOwner } from "../../certs/atomic-write.ts";
import { AcmeError, checkAcmeDomain, createAccountKeyPem, LETS_ENCRYPT_DIRECTORY, obtainAcmeCertificate } from "../../certs/acme-issue.ts";
import { acmePaths, DEFAULT_CHALLENGE_PORT, ensureAccountKey, readAcmeSettings, writeAcmeSettings, type AcmeSettings } from "../../certs/acme-state.ts";
import { CertificateError, inspectCertificate, validateCertificatePair, writeCertificatePair, type CertInfo } from "../../certs/index.ts";
import { startChallengeListener } from "../../server/challenge-listener.ts";
import { CliError } from "../cli-error.ts";
import { writeCertKind } from "./cert-kind.ts";
import { ownerForWrites } from "./file-owner.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface AcmeRequest {
  domain?: string;
  email?: string;
  directoryUrl?: string;
  /** File with the PEM CA certificate the directory's TLS chains to (test CAs only). */
  directoryCa?: string;
  challengePort?: number;
  /** Address a temporary challenge listener binds (the server's host). */
  host: string;
  /** HTTPS port the listener redirects to. */
  httpsPort: number;
}

export interface AcmeOutcome {
  info: CertInfo;
  previous: CertInfo | null;
  accountUrl: string;
  accountCreated: boolean;
  settings: AcmeSettings;
  elapsedMs: number;
}

/** When the timer should renew: a third of the lifetime (at least `minDays`) before expiry, or after a backoff. */
export function nextAcmeRenewal(info: CertInfo, settings: AcmeSettings | null, minDays = 30): Date {
  const lifetime = info.notAfter.getTime() - info.notBefore.getTime();
  const due = info.notAfter.getTime() - Math.max(minDays * DAY, lifetime / 3);
  const retry = settings?.retryAfter ? Date.parse(settings.retryAfter) : 0;
  return new Date(Math.max(due, Number.isFinite(retry) ? retry : 0));
}

/** Backoff after `failures` consecutive failures, shortened to a day once expiry is near. */
export function retryDelay(failures: number, notAfter: Date | null, now = Date.now()): number {
  const delay = Math.min(20 * HOUR * 2 ** Math.max(0, failures - 1), 4 * DAY);
  if (notAfter && notAfter.getTime() - (now + delay) < 7 * DAY) return Math.min(delay, 20 * HOUR);
  return delay;
}

export async function obtainAcme(certDir: string, req: AcmeRequest, previous: CertInfo | null): Promise<AcmeOutcome> {
  const started = Date.now();
  const saved = await readAcmeSettings(certDir);
  const domainRaw = req.domain ?? saved?.domain;
  if (!domainRaw) throw new CliError("--domain is required the first time (the public name phones will open, e.g. voice.example.org)", 2);
  let domain: string;
  try {
    domain = checkAcmeDomain(domainRaw);
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
  const directoryUrl = req.directoryUrl ?? saved?.directoryUrl ?? LETS_ENCRYPT_DIRECTORY;
  const settings: AcmeSettings = {
    domain,
    email: req.email ?? saved?.email,
    directoryUrl,
    directoryCa: req.directoryCa ?? (req.directoryUrl ? undefined : saved?.directoryCa),
    challengePort: req.challengePort ?? saved?.challengePort ?? DEFAULT_CHALLENGE_PORT,
    // An account belongs to one directory: another CA means another account (same key).
    accountUrl: saved && saved.directoryUrl === directoryUrl ? saved.accountUrl : undefined,
    failures: saved?.failures ?? 0,
  };
  let directoryCaPem: string | undefined;
  if (settings.directoryCa) {
    try {
      directoryCaPem = await readFile(settings.directoryCa, "utf8");
    } catch (e) {
      throw new CliError(`cannot read --directory-ca ${settings.directoryCa}: ${(e as Error).message}`, 2);
    }
  }
  const owner = await ownerForWrites(certDir);
  const account = await ensureAccountKey(certDir, createAccountKeyPem, owner);
  const challengeDir = acmePaths(certDir).challenges;
  await ensurePrivateDirectory(challengeDir, owner);

  let listener: Server<unknown> | null = null;
  try {
    listener = await challengeAnswerer(challengeDir, settings.challengePort, req, owner);
    const cert = await obtainAcmeCertificate({
      domain,
      email: settings.email,
      directoryUrl,
      directoryCaPem,
      accountKeyPem: account.pem,
      accountUrl: settings.accountUrl,
      challengePort: settings.challengePort,
      publish: (token, ka) => writeToken(challengeDir, token, ka, owner),
      unpublish: (token) => rm(join(challengeDir, token), { force: true }),
    });
    // Checked like an import before it replaces the running certificate.
    await validateCertificatePair(cert.certPem, cert.keyPem);
    await writeCertificatePair(certDir, cert.certPem, cert.keyPem, owner);
    await writeCertKind(certDir, "acme", owner);
    const done: AcmeSettings = { ...settings, accountUrl: cert.accountUrl, failures: 0, lastAttempt: new Date().toISOString(), lastError: undefined, retryAfter: undefined };
    await writeAcmeSettings(certDir, done, owner);
    return { info: inspectCertificate(cert.certPem), previous, accountUrl: cert.accountUrl, accountCreated: account.created && !settings.accountUrl, settings: done, elapsedMs: Date.now() - started };
  } catch (e) {
    if (e instanceof CliError) throw e;
    const message = e instanceof AcmeError || e instanceof CertificateError ? e.message : `${(e as Error).message}`;
    const failures = settings.failures + 1;
    const retryAfter = new Date(Date.now() + retryDelay(failures, previous?.notAfter ?? null));
    // A failed switch to another domain or CA leaves the working settings (and their renewals) alone.
    const sameOrder = !saved || (saved.domain === domain && saved.directoryUrl === directoryUrl);
    if (sameOrder) await writeAcmeSettings(certDir, { ...settings, failures, lastError: message, lastAttempt: new Date().toISOString(), retryAfter: retryAfter.toISOString() }, owner).catch(() => {});
    const kept = previous ? ` The current certificate stays in use (${previous.daysLeft} days left); the timer tries again after ${retryAfter.toISOString()}.` : "";
    throw new CliError(`no certificate for ${domain}: ${message}${/[.?!]$/.test(message) ? "" : "."}${kept}`, 1);
  } finally {
    listener?.stop(true);
  }
}

async function writeToken(dir: string, token: string, keyAuthorization: string, owner: FileOwner | undefined): Promise<void> {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new AcmeError(`the CA sent a malformed challenge token`, false);
  await refuseSymlink(join(dir, token));
  await writeFileAtomic(join(dir, token), keyAuthorization, 0o644, owner);
}

/**
 * Makes sure http://<host>:<port>/.well-known/acme-challenge/ serves `dir`: opens a listener, or
 * (port taken) proves through a probe token that the one there is voicesrv's own.
 */
async function challengeAnswerer(dir: string, port: number, req: AcmeRequest, owner: FileOwner | undefined): Promise<Server<unknown> | null> {
  let bindError: Error;
  try {
    return startChallengeListener({ host: req.host, port, challengeDir: dir, httpsPort: req.httpsPort });
  } catch (e) {
    bindError = e as Error;
  }
  const token = `voicesrv-probe-${randomBytes(12).toString("hex")}`;
  const expected = randomBytes(16).toString("hex");
  const probeHost = req.host === "0.0.0.0" || req.host === "::" ? "127.0.0.1" : req.host.includes(":") ? `[${req.host}]` : req.host;
  try {
    await writeToken(dir, token, expected, owner);
    const res = await fetch(`http://${probeHost}:${port}/.well-known/acme-challenge/${token}`, { redirect: "manual", signal: AbortSignal.timeout(3000) });
    if (res.status === 200 && (await res.text()).trim() === expected) return null;
  } catch {
    // Nothing (or nothing usable) answers: fall through to the bind error.
  } finally {
    await rm(join(dir, token), { force: true });
  }
  const code = (bindError as NodeJS.ErrnoException).code;
  if (code === "EACCES" || /permission|EACCES/i.test(bindError.message)) {
    throw new AcmeError(`cannot listen on port ${port} for the ACME challenge (permission denied): run the command with sudo, or start voicesrv (it answers challenges itself)`, false);
  }
  throw new AcmeError(`port ${port} is taken by another program, which does not answer voicesrv's ACME challenges: stop it (ss -ltnp 'sport = :${port}') or let it proxy /.well-known/acme-challenge/ to voicesrv`, false);
}
