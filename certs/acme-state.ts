// What `voicesrv cert acme` remembers in <certDir>/acme/ so the renewal timer can repeat it:
//   settings.json    domain, e-mail, directory, challenge port, account URL, the last failure and
//                    when to try again (0600: it is nobody else's business which CA account is used)
//   account-key.pem  the ACME account key (0600), created once and reused: the CA knows the
//                    account by it, and rate limits are counted per account
//   challenges/      one file per pending HTTP-01 token, served by the port-80 listener
import { readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ensurePrivateDirectory, refuseSymlink, syncDirectory, writeFileAtomic, type FileOwner } from "./atomic-write.ts";

export const ACME_DIR = "acme";
export const ACME_SETTINGS_FILE = "settings.json";
export const ACME_ACCOUNT_KEY_FILE = "account-key.pem";
export const ACME_CHALLENGE_DIR = "challenges";
export const DEFAULT_CHALLENGE_PORT = 80;

export interface AcmeSettings {
  domain: string;
  email?: string;
  directoryUrl: string;
  /** Path of a PEM trusted for the directory's TLS (a test CA), if not the system roots. */
  directoryCa?: string;
  challengePort: number;
  accountUrl?: string;
  /** Consecutive failed attempts since the last success. */
  failures: number;
  lastError?: string;
  lastAttempt?: string;
  /** ISO time before which the timer does not try again (backoff after failures). */
  retryAfter?: string;
}

export function acmePaths(certDir: string) {
  const dir = join(certDir, ACME_DIR);
  return { dir, settings: join(dir, ACME_SETTINGS_FILE), accountKey: join(dir, ACME_ACCOUNT_KEY_FILE), challenges: join(dir, ACME_CHALLENGE_DIR) };
}

export function readAcmeSettingsSync(certDir: string): AcmeSettings | null {
  try {
    return parse(readFileSync(acmePaths(certDir).settings, "utf8"));
  } catch {
    return null;
  }
}

export async function readAcmeSettings(certDir: string): Promise<AcmeSettings | null> {
  try {
    return parse(await readFile(acmePaths(certDir).settings, "utf8"));
  } catch {
    return null;
  }
}

function parse(raw: string): AcmeSettings | null {
  const s = JSON.parse(raw) as Partial<AcmeSettings>;
  if (typeof s.domain !== "string" || typeof s.directoryUrl !== "string") return null;
  return { ...s, domain: s.domain, directoryUrl: s.directoryUrl, challengePort: Number(s.challengePort) || DEFAULT_CHALLENGE_PORT, failures: Number(s.failures) || 0 };
}

export async function writeAcmeSettings(certDir: string, settings: AcmeSettings, owner?: FileOwner): Promise<void> {
  const p = acmePaths(certDir);
  await ensurePrivateDirectory(certDir, owner);
  await ensurePrivateDirectory(p.dir, owner);
  await refuseSymlink(p.settings);
  await writeFileAtomic(p.settings, JSON.stringify(settings, null, 2) + "\n", 0o600, owner);
  await syncDirectory(p.dir);
}

/** The account key, created (0600) on first use and reused ever after. */
export async function ensureAccountKey(certDir: string, create: () => Promise<string>, owner?: FileOwner): Promise<{ pem: string; created: boolean }> {
  const p = acmePaths(certDir);
  try {
    return { pem: await readFile(p.accountKey, "utf8"), created: false };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  await ensurePrivateDirectory(certDir, owner);
  await ensurePrivateDirectory(p.dir, owner);
  await refuseSymlink(p.accountKey);
  const pem = await create();
  await writeFileAtomic(p.accountKey, pem, 0o600, owner);
  await syncDirectory(p.dir);
  return { pem, created: true };
}
