import { access, readFile } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic, ensurePrivateDirectory, refuseSymlink, syncDirectory, type FileOwner } from "./atomic-write.ts";
import { namesForCertDir } from "./default-names.ts";
import { CertificateError } from "./errors.ts";
import { generateSelfSigned } from "./self-signed.ts";

export const CERT_FILE = "cert.pem";
export const KEY_FILE = "key.pem";

export interface EnsureCertificateOptions {
  hostnames?: string[];
  ips?: string[];
  days?: number;
  commonName?: string;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

export function certificatePaths(dir: string): { certPath: string; keyPath: string } {
  return { certPath: path.join(dir, CERT_FILE), keyPath: path.join(dir, KEY_FILE) };
}

/**
 * Replaces dir/cert.pem and dir/key.pem. The key is published first so the
 * window where a reader could pair a new key with the old certificate is a
 * single rename, and a crash between the renames is repaired by running again.
 * `dir` must be a real directory (a planted symlink is refused); `owner` is given the new
 * files through their open descriptors, so nothing else is ever chowned.
 */
export async function writeCertificatePair(
  dir: string,
  certPem: string,
  keyPem: string,
  owner?: FileOwner,
): Promise<{ certPath: string; keyPath: string }> {
  await ensurePrivateDirectory(dir, owner);
  const paths = certificatePaths(dir);
  await refuseSymlink(paths.keyPath);
  await refuseSymlink(paths.certPath);
  await writeFileAtomic(paths.keyPath, keyPem, 0o600, owner);
  await writeFileAtomic(paths.certPath, certPem, 0o644, owner);
  await syncDirectory(dir);
  return paths;
}

/** Keeps an existing certificate pair, or creates a self-signed one on first start. */
export async function ensureCertificate(
  dir: string,
  opts: EnsureCertificateOptions = {},
): Promise<{ certPath: string; keyPath: string; generated: boolean }> {
  const paths = certificatePaths(dir);
  if ((await exists(paths.certPath)) && (await exists(paths.keyPath))) {
    return { ...paths, generated: false };
  }
  // A certificate the operator brought (imported, from the private CA or ACME; certs/kind says
  // which) is never replaced by a fresh self-signed pair because one file went missing: that
  // would overwrite their key. Start fails with the reason instead.
  const kind = (await readFile(path.join(dir, "kind"), "utf8").catch(() => "")).trim();
  if (kind && kind !== "self-signed") {
    throw new CertificateError("missing-file", `${paths.certPath} or ${paths.keyPath} is missing, and this ${kind} certificate is not one voicesrv may replace on its own: restore the file, or run \`voicesrv cert renew --self-signed\``);
  }
  // The box's names and LAN addresses now, plus any remembered from --san (a staged install
  // leaves only those behind: the key is made here, on the machine that uses it).
  const names = namesForCertDir(dir);
  const { certPem, keyPem } = await generateSelfSigned({
    hostnames: opts.hostnames ?? names.hostnames,
    ips: opts.ips ?? names.ips,
    days: opts.days,
    commonName: opts.commonName,
  });
  await writeCertificatePair(dir, certPem, keyPem);
  return { ...paths, generated: true };
}
