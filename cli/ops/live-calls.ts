// How many calls a restart would end: install says so before it restarts the service (a
// restart ends every call in progress; docs/OPERATIONS.md). The one place that knows where the
// server publishes its counts: /metrics (Prometheus text, answered on loopback), else the JSON
// of /api/health, which carried the counts before /metrics existed (an upgrade from such a
// version asks the old server).
import { fetchHealth, fetchMetrics } from "./health-probe.ts";

export interface CallsNow {
  calls: number;
  members: number;
  source: "/metrics" | "/api/health";
}

export async function liveCounts(url: string, pin?: string): Promise<CallsNow | null> {
  const m = await fetchMetrics(url, { pin, timeoutMs: 2000 });
  if (m.kind === "ok") return { calls: m.counts.calls, members: m.counts.members, source: "/metrics" };
  const h = await fetchHealth(url, { pin, timeoutMs: 2000 });
  if (h.kind !== "ok" || typeof h.health.calls !== "number") return null;
  return { calls: h.health.calls, members: Number(h.health.members) || 0, source: "/api/health" };
}
