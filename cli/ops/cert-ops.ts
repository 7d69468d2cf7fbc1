// Certificate changes behind `voicesrv cert …` and the renewal timer. Each writes the pair
// atomically (certs/store.ts) and records the kind; signalling the server is the caller's job.
import { readFile } from "node:fs/promises";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { acmePaths, readAcmeSettings } from "../../certs/acme-state.ts";
import {
  CertificateError,
  defaultNames,
  ensureCA,
  mergeNames,
  readExtraNames,
  sortNames,
  writeExtraNames,
  generateSelfSigned,
  inspectCertificate,
  issueServerCertificate,
  validateCertificatePair,
  writeCertificatePair,
  type CertInfo,
} from "../../certs/index.ts";
import { CliError } from "../cli-error.ts";
import type { FileOwner } from "../../certs/atomic-write.ts";
import { nextAcmeRenewal, obtainAcme } from "./acme-ops.ts";
import { readCertKind, writeCertKind, type CertKind } from "./cert-kind.ts";
import { ownerForWrites } from "./file-owner.ts";

export interface Names {
  hostnames: string[];
  ips: string[];
}

export async function readInstalled(certDir: string): Promise<{ info: CertInfo; kind: CertKind; certPem: string } | null> {
  let certPem: string;
  try {
    certPem = await readFile(join(certDir, "cert.pem"), "utf8");
  } catch {
    return null;
  }
  const info = inspectCertificate(certPem);
  return { info, kind: readCertKind(certDir, info), certPem };
}

/**
 * The names given with --hostname (first: it becomes the subject) and --san, sorted into DNS
 * names and IPs. They are added to the machine's own names, never instead of them.
 */
export function namesFromFlags(hostname: string | undefined, sans: string[]): Names | null {
  const all = [...(hostname ? [hostname] : []), ...sans];
  if (all.length === 0) return null;
  return sortNames(all);
}

/**
 * What a certificate issued now in certDir covers: the extra names (given now, which are then
 * remembered, or remembered from before) followed by this box's own names and LAN addresses as
 * they are today, so a renewal also picks up an address DHCP has changed.
 */
export async function certificateNames(certDir: string, given: Names | null | undefined, owner?: FileOwner): Promise<Names> {
  if (given) await writeExtraNames(certDir, given, owner);
  return mergeNames(given ?? readExtraNames(certDir), defaultNames());
}

/** `owner` (from ownerForWrites) gets exactly the files written here; ca/* only via ensureCA when it creates them. */
async function publish(certDir: string, pair: { certPem: string; keyPem: string }, kind: CertKind, owner: FileOwner | undefined): Promise<CertInfo> {
  await writeCertificatePair(certDir, pair.certPem, pair.keyPem, owner);
  await writeCertKind(certDir, kind, owner);
  return inspectCertificate(pair.certPem);
}

function asCliError(e: unknown): never {
  if (e instanceof CertificateError || e instanceof RangeError) throw new CliError(e.message, 1);
  throw e;
}

export interface RenewOptions {
  days?: number;
  names?: Names | null;
  /** Renew only when at most this many days are left (the timer's mode). */
  ifExpiringWithin?: number;
  /** Replace an imported (or ACME) certificate with a self-signed one. */
  selfSigned?: boolean;
  /** For an ACME certificate: where a temporary challenge listener binds and redirects to. */
  host?: string;
  httpsPort?: number;
}

export type RenewResult = { renewed: true; kind: CertKind; previous: CertInfo | null; info: CertInfo } | { renewed: false; reason: string; info: CertInfo; kind: CertKind };

export async function renewCertificate(certDir: string, opts: RenewOptions = {}): Promise<RenewResult> {
  const current = await readInstalled(certDir);
  let kind: CertKind = current?.kind ?? "self-signed";
  if (current && kind === "imported") {
    if (opts.ifExpiringWithin !== undefined) {
      return { renewed: false, kind, info: current.info, reason: `the certificate was imported (${current.info.daysLeft} days left); renew it where it came from, then run \`voicesrv cert import\`` };
    }
    if (!opts.selfSigned) {
      throw new CliError("the installed certificate was imported, so renewing it here would replace it with a self-signed one: import the renewed certificate with `voicesrv cert import`, or pass --self-signed to switch", 1);
    }
    kind = "self-signed";
  }
  if (current && kind === "acme") {
    if (opts.selfSigned) {
      kind = "self-signed";
      // The server stops holding the challenge port once the settings are gone (next start).
      await rm(acmePaths(certDir).settings, { force: true });
    } else return renewAcme(certDir, current.info, opts);
  }
  if (current && opts.ifExpiringWithin !== undefined && current.info.daysLeft > opts.ifExpiringWithin) {
    return { renewed: false, kind, info: current.info, reason: `${current.info.daysLeft} days left, more than ${opts.ifExpiringWithin}: nothing to do` };
  }
  const owner = await ownerForWrites(certDir);
  try {
    const names = await certificateNames(certDir, opts.names, owner);
    const pair =
      kind === "ca"
        ? await issueServerCertificate(await ensureCA(certDir, { owner }), { ...names, days: opts.days })
        : await generateSelfSigned({ ...names, days: opts.days });
    return { renewed: true, kind, previous: current?.info ?? null, info: await publish(certDir, pair, kind, owner) };
  } catch (e) {
    asCliError(e);
  }
}

async function renewAcme(certDir: string, current: CertInfo, opts: RenewOptions): Promise<RenewResult> {
  if (opts.names) throw new CliError("an ACME certificate names exactly its domain: change it with `voicesrv cert acme --domain NAME`", 2);
  if (opts.days !== undefined) throw new CliError("the CA decides how long an ACME certificate lasts: drop --days", 2);
  if (opts.ifExpiringWithin !== undefined) {
    const next = nextAcmeRenewal(current, await readAcmeSettings(certDir), opts.ifExpiringWithin);
    if (Date.now() < next.getTime()) return { renewed: false, kind: "acme", info: current, reason: `${current.daysLeft} days left: next ACME renewal attempt after ${next.toISOString()}` };
  }
  const r = await obtainAcme(certDir, { host: opts.host ?? "0.0.0.0", httpsPort: opts.httpsPort ?? 443 }, current);
  return { renewed: true, kind: "acme", previous: current, info: r.info };
}

export async function importCertificate(certDir: string, certFile: string, keyFile: string): Promise<CertInfo> {
  let certPem: string;
  let keyPem: string;
  try {
    [certPem, keyPem] = await Promise.all([readFile(certFile, "utf8"), readFile(keyFile, "utf8")]);
  } catch (e) {
    throw new CliError(`cannot read ${(e as NodeJS.ErrnoException).path ?? "the file"}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`, 1);
  }
  try {
    // Checked before anything is written: a bad pair never reaches the running server.
    await validateCertificatePair(certPem, keyPem);
  } catch (e) {
    if (e instanceof CertificateError) throw new CliError(`not imported: ${e.message}`, 1);
    throw e;
  }
  const owner = await ownerForWrites(certDir);
  try {
    return await publish(certDir, { certPem, keyPem }, "imported", owner);
  } catch (e) {
    asCliError(e);
  }
}

/** Private-CA mode: the CA stays in certDir/ca; the server certificate is issued from it. */
export async function switchToPrivateCA(certDir: string, opts: { days?: number; names?: Names | null } = {}): Promise<{ info: CertInfo; ca: CertInfo; caCreated: boolean }> {
  const owner = await ownerForWrites(certDir);
  // Leaving ACME: the server stops answering challenges at its next start.
  await rm(acmePaths(certDir).settings, { force: true });
  try {
    const names = await certificateNames(certDir, opts.names, owner);
    const ca = await ensureCA(certDir, { owner });
    const pair = await issueServerCertificate(ca, { ...names, days: opts.days });
    const info = await publish(certDir, pair, "ca", owner);
    return { info, ca: inspectCertificate(ca.certPem), caCreated: ca.generated };
  } catch (e) {
    asCliError(e);
  }
}
