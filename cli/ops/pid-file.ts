// <dataDir>/voicesrv.pid lets `cert renew|import|ca` find a server not run by systemd and send it
// SIGHUP. Before signalling, the PID is checked to still be a voicesrv process: a stale file
// whose PID was reused must never get a signal.
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const PID_FILE = "voicesrv.pid";

export function pidFilePath(dataDir: string): string {
  return join(dataDir, PID_FILE);
}

export function writePidFile(dataDir: string): string {
  const path = pidFilePath(dataDir);
  writeFileSync(path, `${process.pid}\n`, { mode: 0o644 });
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
    // No /proc (or hidden by ProtectProc): fall back to the liveness check above.
    return true;
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
