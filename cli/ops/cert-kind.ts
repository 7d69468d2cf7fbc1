// Which kind of certificate is installed decides whether the renewal timer may replace it:
// a self-signed or private-CA one is ours to renew, an ACME one is renewed by asking its CA again;
// an imported one belongs to whoever issued it.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { assertRealDirectory, refuseSymlink, writeFileAtomic, type FileOwner } from "../../certs/atomic-write.ts";
import { CA_CERT_FILE, CA_DIR } from "../../certs/index.ts";
import type { CertInfo } from "../../certs/index.ts";

export type CertKind = "self-signed" | "ca" | "imported" | "acme";
const KINDS: CertKind[] = ["self-signed", "ca", "imported", "acme"];
export const KIND_FILE = "kind";

export function readCertKind(certDir: string, info?: CertInfo): CertKind {
  try {
    const k = readFileSync(join(certDir, KIND_FILE), "utf8").trim() as CertKind;
    if (KINDS.includes(k)) return k;
  } catch {
    // No marker: a certificate from before markers existed, or placed by hand.
  }
  if (!info || info.selfSigned) return "self-signed";
  return existsSync(join(certDir, CA_DIR, CA_CERT_FILE)) ? "ca" : "imported";
}

/** Like the pair itself: only into a real directory, never through a link, owned via the descriptor. */
export async function writeCertKind(certDir: string, kind: CertKind, owner?: FileOwner): Promise<void> {
  await assertRealDirectory(certDir);
  await refuseSymlink(join(certDir, KIND_FILE));
  await writeFileAtomic(join(certDir, KIND_FILE), kind + "\n", 0o600, owner);
}
