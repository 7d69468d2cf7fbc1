// What systemd knows about the installed unit. Everything here is a read (runner.probe).
import { existsSync } from "node:fs";
import { SERVICE_NAME } from "./install-paths.ts";
import type { Runner } from "./runner.ts";

export interface ServiceState {
  /** False when this machine is not running systemd or the unit is not installed. */
  known: boolean;
  active: boolean;
  enabled: boolean;
  pid: number | null;
  /** Seconds since systemd last started it. */
  uptimeSeconds: number | null;
  activeState: string;
}

export const NO_SERVICE: ServiceState = { known: false, active: false, enabled: false, pid: null, uptimeSeconds: null, activeState: "unknown" };

export async function serviceState(run: Runner, unit = SERVICE_NAME): Promise<ServiceState> {
  const r = await run.probe(["systemctl", "show", unit, "--property=LoadState,ActiveState,UnitFileState,MainPID,ActiveEnterTimestamp"]);
  if (!r || r.code !== 0) return NO_SERVICE;
  const props = Object.fromEntries(
    r.stdout
      .trim()
      .split("\n")
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  if (props.LoadState !== "loaded") return NO_SERVICE;
  const pid = Number(props.MainPID) || null;
  const since = Date.parse(props.ActiveEnterTimestamp ?? "");
  const active = props.ActiveState === "active";
  return {
    known: true,
    active,
    enabled: props.UnitFileState === "enabled",
    pid,
    uptimeSeconds: active && Number.isFinite(since) ? Math.max(0, Math.round((Date.now() - since) / 1000)) : null,
    activeState: props.ActiveState ?? "unknown",
  };
}

/** Is the host running systemd as PID 1 (rather than merely having systemctl installed)? */
export function systemdRunning(): boolean {
  return existsSync("/run/systemd/system");
}
