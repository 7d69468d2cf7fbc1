import { readFileSync } from "node:fs";

export const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** One /proc/<pid>/stat (or /proc/<pid>/task/<tid>/stat): the command name and the CPU ticks
 *  used in user space and in the kernel; null once the process is gone. */
export function readProcStat(path: string): { comm: string; userTicks: number; kernelTicks: number } | null {
  let stat: string;
  try {
    stat = readFileSync(path, "utf8");
  } catch {
    return null;
  }
  // The command name is in parentheses and may contain spaces; the fields after it are fixed.
  const close = stat.lastIndexOf(")");
  const fields = stat.slice(close + 2).split(" ");
  return { comm: stat.slice(stat.indexOf("(") + 1, close), userTicks: Number(fields[11]), kernelTicks: Number(fields[12]) };
}

/** CPU seconds a process has used so far, from /proc: in user space and in the kernel (its
 *  system calls, and on loopback the TCP work its sends do for the receiving socket too). */
export function cpuSplit(pid: number): { user: number; kernel: number } {
  const st = readProcStat(`/proc/${pid}/stat`);
  if (!st) throw new Error(`process ${pid} is gone`);
  return { user: st.userTicks / TICKS_PER_SECOND, kernel: st.kernelTicks / TICKS_PER_SECOND };
}

/** CPU seconds a process has used since `before` (an earlier cpuSplit): in all, and in the kernel. */
export function cpuUsedSince(pid: number, before: { user: number; kernel: number }): { total: number; kernel: number } {
  const now = cpuSplit(pid);
  const kernel = now.kernel - before.kernel;
  return { total: now.user - before.user + kernel, kernel };
}

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(status.match(/VmRSS:\s+(\d+) kB/)?.[1] ?? 0) * 1024;
}
