// CPU of a Chromium instance's renderer processes, from /proc (Linux), found through the unique
// profile directory on their command lines.
import { readdirSync, readFileSync } from "node:fs";
import { readProcStat, TICKS_PER_SECOND } from "../../cli/bench/proc-stats.ts";

/** Chromium rewrites its process title, so arguments may be NUL- or space-separated. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ") + " ";
  } catch {
    return "";
  }
}

/** PIDs of the Chromium child processes of `type` (e.g. "--type=renderer") whose profile
 *  directory is `userDataDir` (every child carries it on its command line). */
export function chromiumPids(userDataDir: string, type = "--type=renderer"): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      const c = cmdline(pid);
      return c.includes(` ${type} `) && c.includes(` --user-data-dir=${userDataDir} `);
    });
}

export const rendererPids = (userDataDir: string) => chromiumPids(userDataDir);

/** utime + stime of the given processes, in seconds. */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const st = readProcStat(`/proc/${pid}/stat`);
    if (st) ticks += st.userTicks + st.kernelTicks;
  }
  return ticks / TICKS_PER_SECOND;
}
