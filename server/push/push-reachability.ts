// Can this box reach the push services at all? For `voicesrv doctor` and `status`: a box whose
// firewall or DNS keeps it from the push services can never ring a closed app, and the operator
// should hear that before a family member misses a call.
//
// Decisions:
// - DNS lookup and a TCP connection to port 443, nothing more: no TLS, no HTTP request, so the
//   probe sends the push services no data. The addresses pass the same checks as a real send
//   (a DNS answer pointing at a private address fails here as it would there).
// - The targets are a parameter: tests point them at loopback (a closed port, the push service
//   stand-in) and never at the real hosts.
import { connect } from "node:net";
import { resolveChecked, type PushTransport } from "./endpoint-guard.ts";

export interface ProbeTarget {
  host: string;
  port?: number;
}

/** One host per service the browsers use: Chrome/Android, Safari, Firefox. */
export const PUSH_PROBE_TARGETS: readonly ProbeTarget[] = [{ host: "fcm.googleapis.com" }, { host: "web.push.apple.com" }, { host: "updates.push.services.mozilla.com" }];

export interface ReachabilityResult {
  /** True when every target answered. */
  ok: boolean;
  reachable: string[];
  unreachable: { host: string; reason: string }[];
  /** One line for doctor/status. */
  summary: string;
}

export const NO_ROUTE = "no route to the push services";

export async function probePushReachability(opts: { targets?: readonly ProbeTarget[]; transport?: PushTransport; timeoutMs?: number } = {}): Promise<ReachabilityResult> {
  const targets = opts.targets ?? PUSH_PROBE_TARGETS;
  const transport = opts.transport ?? {};
  const timeoutMs = opts.timeoutMs ?? 5000;
  const results = await Promise.all(targets.map((t) => probeOne(t, transport, timeoutMs)));
  const reachable = results.filter((r) => r.reason === null).map((r) => r.host);
  const unreachable = results.filter((r): r is { host: string; reason: string } => r.reason !== null);
  const summary =
    unreachable.length === 0
      ? `reached ${reachable.join(", ")}`
      : reachable.length === 0
        ? `${NO_ROUTE}: ${unreachable.map((u) => `${u.host}: ${u.reason}`).join("; ")}`
        : `some push services are unreachable: ${unreachable.map((u) => `${u.host}: ${u.reason}`).join("; ")}`;
  return { ok: unreachable.length === 0, reachable, unreachable, summary };
}

async function probeOne(target: ProbeTarget, transport: PushTransport, timeoutMs: number): Promise<{ host: string; reason: string | null }> {
  const host = target.host;
  const signal = AbortSignal.timeout(timeoutMs);
  const resolved = await resolveChecked(host, transport, signal);
  if (!resolved.ok) return { host, reason: resolved.reason };
  let last = "";
  for (const address of resolved.addresses) {
    const r = await tcpConnect(address, target.port ?? 443, signal);
    if (r === null) return { host, reason: null };
    last = r;
    if (signal.aborted) break;
  }
  return { host, reason: last };
}

function tcpConnect(address: string, port: number, signal: AbortSignal): Promise<string | null> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve("timed out");
    const socket = connect({ host: address, port });
    const done = (r: string | null) => {
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(r);
    };
    const onAbort = () => done(`no TCP answer from ${address} port ${port} (timed out)`);
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => done(null));
    socket.once("error", (e: NodeJS.ErrnoException) => done(`TCP to ${address} port ${port} failed (${e.code ?? e.message})`));
  });
}
