// Tells a running server to re-read its certificate: SIGHUP makes it swap listeners without
// dropping calls (server/index.ts reloadCertificate). systemd's MainPID comes first; a server
// run by hand is found through its PID file.
import { readLivePid } from "./pid-file.ts";
import type { Runner } from "./runner.ts";
import { serviceState } from "./service-state.ts";

export type ReloadOutcome = { signalled: true; pid: number; via: "systemd" | "pid-file" } | { signalled: false; reason: string };

export async function signalReload(run: Runner, dataDir: string): Promise<ReloadOutcome> {
  const svc = await serviceState(run);
  const target = svc.active && svc.pid ? { pid: svc.pid, via: "systemd" as const } : (() => {
    const pid = readLivePid(dataDir);
    return pid ? { pid, via: "pid-file" as const } : null;
  })();
  if (!target) return { signalled: false, reason: "no running voicesrv found (it picks the new certificate up when it starts)" };
  if (run.mode !== "live") return { signalled: false, reason: `would send SIGHUP to ${target.pid}` };
  try {
    process.kill(target.pid, "SIGHUP");
    return { signalled: true, ...target };
  } catch (e) {
    return { signalled: false, reason: `cannot signal PID ${target.pid}: ${(e as Error).message} — run \`systemctl reload voicesrv\`` };
  }
}
