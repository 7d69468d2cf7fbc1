import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { inspectCertificate, type CertInfo } from "../../certs/index.ts";
import { CliError } from "../cli-error.ts";
import { readCertKind } from "../ops/cert-kind.ts";
import { addConfigFlags, type ConfigFlags } from "../ops/config-flags.ts";
import { detectFirewall } from "../ops/firewall.ts";
import { fetchHealth, fetchMetrics, localUrl, type Health, type LiveCounts, type PushStatus } from "../ops/health-probe.ts";
import { color, mark, printJson } from "../ops/output.ts";
import { readLivePid } from "../ops/pid-file.ts";
import { createRunner } from "../ops/runner.ts";
import { locateServer, reloadAdvice } from "../ops/server-locator.ts";
import { certJson, renewalPlan } from "./cert.ts";

interface StatusFlags extends ConfigFlags {
  url?: string;
  json?: boolean;
}

/** Exit codes: scripts and monitoring read these. */
export const STATUS_EXIT = { healthy: 0, degraded: 1, notRunning: 3 } as const;
const EXPIRY_WARNING_DAYS = 14;

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || host.startsWith("127.");
}

export function registerStatus(program: Command): void {
  addConfigFlags(
    program
      .command("status")
      .description("is voicesrv running and healthy? service, live counts (/metrics), certificate, firewall (exit 0 healthy, 1 degraded, 3 not running)")
      .option("--url <url>", "the server to ask (default from the config, e.g. https://127.0.0.1:22000)")
      .option("--json", "print JSON"),
    { port: true },
  )
    .addHelpText("after", "\nExamples:\n  voicesrv status\n  voicesrv status --url https://127.0.0.1:22000 --data-dir ./data --json")
    .action(async (flags: StatusFlags) => {
      const run = createRunner("live");
      const where = await locateServer(flags, run);
      const c = where.config;
      let url: URL;
      try {
        url = new URL(flags.url ?? localUrl(c.host, c.port, !c.http));
      } catch {
        throw new CliError(`--url must be a URL such as https://127.0.0.1:22000, got "${flags.url}"`, 2);
      }
      const problems: string[] = [];
      /** Said, but not a fault of the server: no effect on the state or exit code. */
      const notes: string[] = [];

      const svc = where.service;
      const pid = svc.pid ?? where.pid ?? readLivePid(c.dataDir);
      if (where.others.length) notes.push(`more voicesrv servers run by hand (PID ${where.others.join(", ")}): this is PID ${where.pid}; pass --config or --data-dir to choose`);

      let cert: CertInfo | null = null;
      let certError: string | null = null;
      // The key and certificate belong to the voicesrv user: a non-root caller may not read them,
      // which says nothing about the server.
      let certUnreadable = false;
      try {
        cert = inspectCertificate(await readFile(c.certFile, "utf8"));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        certUnreadable = code === "EACCES" || code === "EPERM";
        certError = code === "ENOENT" ? `no certificate at ${c.certFile}` : `cannot read ${c.certFile}: ${(e as Error).message}`;
      }
      const verifyHint = `cannot read ${c.certFile}: run with sudo to verify the certificate`;

      const health = await fetchHealth(url.href, { pin: cert?.fingerprint256 });
      let h: Health | null = null;
      let state: keyof typeof STATUS_EXIT = "healthy";
      if (health.kind === "ok") h = health.health;
      else if (health.kind === "untrusted" && certUnreadable) {
        // Something answers TLS, but without the file there is nothing to pin it to: not degraded,
        // and no reload hint (the certificate did not change).
        notes.push(verifyHint);
      } else if (health.kind === "unreachable" && !svc.active) {
        state = "notRunning";
        problems.push(`not running: ${health.detail}${svc.known ? ` (voicesrv.service is ${svc.activeState})` : ""}`);
      } else {
        state = "degraded";
        problems.push(health.kind === "untrusted" ? `${health.detail} — if you just changed it, run \`${reloadAdvice({ ...where, pid })}\`` : `running but not healthy: ${health.detail}`);
      }

      // Live counts are not public (/metrics: loopback, or the metricsToken from the config).
      let live: LiveCounts | null = null;
      let push: PushStatus | null = null;
      if (h) {
        const m = await fetchMetrics(url.href, { pin: cert?.fingerprint256, token: c.metricsToken });
        if (m.kind === "ok") {
          live = m.counts;
          push = m.push;
        }
        else notes.push(m.kind === "refused" ? `${m.detail}: no live counts` : `no live counts: ${m.detail}`);
      }

      if (url.protocol === "https:") {
        if (!cert) {
          if (certUnreadable) {
            if (!notes.includes(verifyHint)) notes.push(verifyHint);
          } else problems.push(certError!);
        }
        else if (cert.daysLeft < 0) problems.push(`the certificate expired ${-cert.daysLeft} days ago: voicesrv cert renew`);
        else if (cert.daysLeft <= EXPIRY_WARNING_DAYS) problems.push(`the certificate expires in ${cert.daysLeft} days: voicesrv cert renew`);
      }

      const port = Number(url.port) || c.port;
      const fw = await detectFirewall(run);
      // Loopback-only servers (behind a tunnel or proxy) need no firewall opening. The bind
      // address decides, not the URL status asks (always loopback by default): judged by the
      // URL, a missing rule was never reported (issue #12, defect 4).
      const needsRule = fw?.active === true && !isLoopback(c.host);
      const rulePresent = fw?.active ? await fw.firewall.hasRule(port) : null;
      if (needsRule && !rulePresent) problems.push(`${fw!.firewall.name} has no rule for ${port}/tcp: other devices cannot connect — sudo voicesrv install (or open it yourself)`);
      if (fw?.undetermined) notes.push(`cannot read the ${fw.firewall.name} rules without root: run with sudo to check the firewall`);
      if (state === "healthy" && problems.length) state = "degraded";

      const certKind = cert ? (c.managed ? readCertKind(c.certDir, cert) : "external") : null;
      const renewal = cert && certKind ? await renewalPlan(c.certDir, cert, certKind) : null;
      if (renewal?.lastError) problems.push(`the last ACME renewal failed: ${renewal.lastError}`);
      if (state === "healthy" && problems.length) state = "degraded";

      const result = {
        state: state === "notRunning" ? "not-running" : state,
        url: url.origin,
        service: { manager: svc.known ? "systemd" : pid ? (where.how === "by-hand" ? "by-hand" : "pid-file") : "none", dataDir: c.dataDir, active: svc.known ? svc.active : h !== null, enabled: svc.enabled, pid, uptimeSeconds: svc.uptimeSeconds ?? live?.uptimeSeconds ?? null },
        version: h?.version ?? null,
        health: live ? { groups: live.groups, members: live.members, calls: live.calls, connections: live.connections } : null,
        certificate: cert ? { file: c.certFile, kind: certKind, ...certJson(cert), nextRenewal: renewal?.next ?? null } : null,
        push,
        firewall: fw ? { name: fw.firewall.name, active: fw.undetermined ? null : fw.active, rulePresent } : null,
        problems,
        notes,
      };
      process.exitCode = STATUS_EXIT[state];
      if (flags.json) return printJson(result);

      const headline = state === "healthy" ? color.ok("healthy") : state === "degraded" ? color.warn("degraded") : color.bad("not running");
      console.log(`voicesrv ${headline}  ${url.origin}`);
      const s = result.service;
      console.log(`  service      ${s.manager === "systemd" ? `systemd: ${svc.activeState}, ${svc.enabled ? "enabled" : "not enabled"}` : s.manager === "pid-file" || s.manager === "by-hand" ? `started by hand (data ${c.dataDir})` : "not managed by systemd"}${pid ? `, PID ${pid}` : ""}${s.uptimeSeconds !== null ? `, up ${formatUptime(s.uptimeSeconds)}` : ""}`);
      if (h) console.log(`  health       version ${h.version}${live ? `: ${live.groups} groups, ${live.members} members, ${live.calls} calls` : ""}`);
      if (cert) {
        console.log(`  certificate  ${cert.subject} (${result.certificate!.kind}), ${[...cert.sans.dns, ...cert.sans.ip].join(", ")}`);
        console.log(`               ${cert.daysLeft} days left, SHA-256 ${cert.fingerprint256}`);
        console.log(`               issuer ${cert.issuer}; renewal ${renewal?.text ?? "unknown"}`);
      }
      if (push) {
        const f = push.lastFailure;
        console.log(`  push         ${push.configured ? `on, ${push.subscriptions ?? 0} ${push.subscriptions === 1 ? "phone" : "phones"} can be rung while closed${f ? `; last failure ${f.at} (${f.host}: ${f.reason})` : ""}` : "off (set pushSubject in the config to ring closed apps)"}`);
      }
      console.log(`  firewall     ${fw ? `${fw.firewall.name} ${fw.undetermined ? "unknown (needs root to read)" : fw.active ? (rulePresent ? `active, ${port}/tcp open` : `active, no rule for ${port}/tcp`) : "inactive"}` : "none found"}`);
      for (const p of problems) console.log(`  ${mark(state === "notRunning" ? "fail" : "warn")} ${p}`);
      for (const n of notes) console.log(`  note: ${n}`);
    });
}

function formatUptime(s: number): string {
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}
