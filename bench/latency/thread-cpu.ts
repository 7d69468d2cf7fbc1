// Which threads of which processes used the CPU in a stretch of time, from /proc (Linux): every
// thread of every process is read every `everyMs`, so the stretch around a call's start can be
// taken apart afterwards (the machine-wide figure only says that every core was busy).
import { readdirSync } from "node:fs";
import { readProcStat, TICKS_PER_SECOND } from "../../cli/bench/proc-stats.ts";
import { cmdline } from "./proc-cpu.ts";

interface Snapshot {
  t: number;
  /** "<process label> <thread name>" → utime + stime in ticks, summed over threads of that name. */
  ticks: Map<string, number>;
}

export interface ThreadCpu {
  stop(): void;
  /** CPU % of one core per "<process> <thread>" between the snapshots nearest to `fromMs` and
   *  `toMs` (Date.now()), the busiest first; `label` names a process from its command line. */
  between(fromMs: number, toMs: number): { what: string; pct: number }[];
}

export function sampleThreadCpu(label: (pid: number, cmdline: string) => string | null, everyMs = 250): ThreadCpu {
  const labels = new Map<number, string | null>();
  const snap = (): Snapshot => {
    const ticks = new Map<string, number>();
    for (const d of readdirSync("/proc")) {
      if (!/^\d+$/.test(d)) continue;
      const pid = Number(d);
      if (!labels.has(pid)) labels.set(pid, label(pid, cmdline(pid)));
      const who = labels.get(pid);
      if (!who) continue;
      let tids: string[] = [];
      try {
        tids = readdirSync(`/proc/${pid}/task`);
      } catch {
        continue;
      }
      for (const tid of tids) {
        const st = readProcStat(`/proc/${pid}/task/${tid}/stat`);
        if (!st) continue;
        // Thread names carry counters ("ThreadPoolForeg", "Chrome_ChildIOT"…): kept as they are.
        const key = `${who} ${st.comm}`;
        ticks.set(key, (ticks.get(key) ?? 0) + st.userTicks + st.kernelTicks);
      }
    }
    return { t: Date.now(), ticks };
  };
  const snaps: Snapshot[] = [snap()];
  const timer = setInterval(() => snaps.push(snap()), everyMs);
  const nearest = (t: number) => snaps.reduce((best, s) => (Math.abs(s.t - t) < Math.abs(best.t - t) ? s : best));
  return {
    stop: () => clearInterval(timer),
    between(fromMs, toMs) {
      const a = nearest(fromMs);
      const b = nearest(toMs);
      const secs = (b.t - a.t) / 1000;
      if (secs <= 0) return [];
      const out: { what: string; pct: number }[] = [];
      for (const [k, v] of b.ticks) {
        // A thread that appeared within the stretch counts from zero.
        const used = (v - (a.ticks.get(k) ?? 0)) / TICKS_PER_SECOND;
        if (used > 0) out.push({ what: k, pct: Math.round((100 * used) / secs) });
      }
      return out.sort((x, y) => y.pct - x.pct);
    },
  };
}
