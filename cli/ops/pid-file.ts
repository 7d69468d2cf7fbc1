// <dataDir>/voicesrv.pid lets `cert renew|import|ca` find a server not run by systemd and send it
// SIGHUP. Before signalling, the PID is checked to still be a voicesrv process: a stale file
// whose PID was reused must never get a signal.
import { randomBytes } from "node:crypto";
import { closeSync, fchmodSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";

export const PID_FILE = "voicesrv.pid";

export function pidFilePath(dataDir: string): string {
  return join(dataDir, PID_FILE);
}

/**
 * Temp file opened with "wx" (never follows or reuses an existing entry) renamed over the PID
 * file: rename replaces a planted symlink instead of writing through it, so `sudo voicesrv
 * serve` with a data dir someone else can write cannot be made to truncate another file.
 */
export function writePidFile(dataDir: string): string {
  const path = pidFilePath(dataDir);
  const tmp = join(dataDir, `.${PID_FILE}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(tmp, "wx", 0o644);
  try {
    try {
      writeSync(fd, `${process.pid}\n`);
      fchmodSync(fd, 0o644);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // Already renamed or never created.
    }
    throw e;
  }
  return path;
}

export function removePidFile(dataDir: string): void {
  try {
    // Only our own: a second instance started by mistake must not delete the first one's file.
    if (readFileSync(pidFilePath(dataDir), "utf8").trim() === String(process.pid)) unlinkSync(pidFilePath(dataDir));
  } catch {
    // Already gone.
  }
}

export function isVoicesrvProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM means it exists but belongs to someone else: still not ours to judge by cmdline.
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv.some((a) => a.endsWith("voicesrv") || a.endsWith("cli/main.ts")) && argv.includes("serve");
  } catch {
    // No /proc (or hidden by ProtectProc): unverified, so not ours. A live PID alone may have
    // been reused by any process, and SIGHUP kills most of them.
    return false;
  }
}

/** The PID in the file if that process is a running voicesrv, else null. */
export function readLivePid(dataDir: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFilePath(dataDir), "utf8").trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 1) return null;
  return isVoicesrvProcess(pid) ? pid : null;
}
