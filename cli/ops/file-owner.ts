// `cert renew` runs as root from a shell or as the service user from the timer. Files it writes
// as root must end up owned like their directory, or the service could no longer read its key.
// Only the files a call just wrote are given away, through their open descriptors
// (certs/atomic-write.ts): a path-based chown would follow links the service user can plant.
import { readFileSync } from "node:fs";
import { lstat } from "node:fs/promises";
import type { FileOwner } from "../../certs/atomic-write.ts";
import { CliError } from "../cli-error.ts";
import { SERVICE_USER } from "./install-paths.ts";

/**
 * The owner to give files written into certDir, or undefined to leave them root's (not root,
 * no certDir yet, or a root:root one). Refuses a symlinked certDir, and as root one owned by
 * anyone but root or the service user: root would be handing that account a private key.
 */
export async function ownerForWrites(certDir: string): Promise<FileOwner | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  let st;
  try {
    st = await lstat(certDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  if (st.isSymbolicLink() || !st.isDirectory()) throw new CliError(`${certDir} is ${st.isSymbolicLink() ? "a symbolic link" : "not a directory"}: refusing to write certificates there as root (replace it with a real directory)`, 1);
  if (st.uid === 0 && st.gid === 0) return undefined;
  if (st.uid !== 0 && st.uid !== serviceUid()) {
    throw new CliError(`${certDir} belongs to uid ${st.uid}, neither root nor ${SERVICE_USER}: refusing to hand it a private key as root (run this command as that user)`, 1);
  }
  return { uid: st.uid, gid: st.gid };
}

/** The service account's uid from /etc/passwd (useradd --system puts it there), or null. */
function serviceUid(): number | null {
  try {
    const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${SERVICE_USER}:`));
    const uid = line ? Number(line.split(":")[2]) : NaN;
    return Number.isInteger(uid) ? uid : null;
  } catch {
    return null;
  }
}
