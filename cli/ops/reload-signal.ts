// Tells a running server to re-read its certificate: SIGHUP makes it swap listeners without
// dropping calls (server/index.ts reloadCertificate). systemd's MainPID comes first; a server
// run by hand is found through its PID file.
//
// A SIGHUP is sent only once the process has a handler for it (SigCgt in /proc/PID/status), so
// a reload right after a restart waits for the new process instead of killing it (issue #12,
// defect 2: the default action ends the process with a clean exit, which Restart=on-failure
// does not restart). The server also catches SIGHUP from its first module (cli/early-signals.ts);
// this closes the few milliseconds before any JavaScript runs.
import { readFileSync } from "node:fs";
import { isVoicesrvProcess, readLivePid } from "./pid-file.ts";
import type { Runner } from "./runner.ts";
import { serviceState } from "./service-state.ts";

export type ReloadOutcome = { signalled: true; pid: number; via: "systemd" | "pid-file" | "pid" } | { signalled: false; reason: string };

/** true: SIGHUP is caught or ignored; false: it would still kill; null: cannot tell (no /proc). */
export function sighupHandled(pid: number): boolean | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
  // Bit 0 of each mask is signal 1, SIGHUP.
  const bit = (name: string) => {
    const m = status.match(new RegExp(`^${name}:\\s*([0-9a-f]+)`, "m"));
    return m ? (parseInt(m[1]!.slice(-1), 16) & 1) === 1 : false;
  };
  return bit("SigCgt") || bit("SigIgn");
}

/** Sends SIGHUP once `pid` handles it; throws if it never does within timeoutMs or has gone. */
export async function sighupWhenReady(pid: number, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ready = sighupHandled(pid);
    if (ready !== false) break; // null: no /proc to ask; send as before
    if (Date.now() > end) throw new Error(`PID ${pid} did not become ready for SIGHUP within ${Math.round(timeoutMs / 1000)} s: not signalled`);
    await Bun.sleep(20);
  }
  process.kill(pid, "SIGHUP");
}

export async function signalReload(run: Runner, dataDir: string, explicitPid?: number): Promise<ReloadOutcome> {
  let target: { pid: number; via: "systemd" | "pid-file" | "pid" } | null = null;
  if (explicitPid !== undefined) {
    // systemd hands over $MAINPID as soon as it forked: the child may not have exec'd the
    // server yet (its /proc entry still reads as systemd's), so give it the same time to become
    // one as to install its handler.
    const end = Date.now() + 15_000;
    while (!isVoicesrvProcess(explicitPid)) {
      if (Date.now() > end || !processExists(explicitPid)) return { signalled: false, reason: `PID ${explicitPid} is not a running voicesrv server` };
      await Bun.sleep(20);
    }
    target = { pid: explicitPid, via: "pid" };
  } else {
    const svc = await serviceState(run);
    const pid = svc.active && svc.pid ? svc.pid : readLivePid(dataDir);
    if (pid) target = { pid, via: svc.active && svc.pid ? "systemd" : "pid-file" };
  }
  if (!target) return { signalled: false, reason: "no running voicesrv found (it picks the new certificate up when it starts)" };
  if (run.mode !== "live") return { signalled: false, reason: `would send SIGHUP to ${target.pid}` };
  try {
    await sighupWhenReady(target.pid);
    return { signalled: true, ...target };
  } catch (e) {
    return { signalled: false, reason: `cannot signal PID ${target.pid}: ${(e as Error).message}` };
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
