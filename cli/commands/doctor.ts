import { readFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import type { Command } from "commander";
import { inspectCertificate, validateCertificatePair } from "../../certs/index.ts";
import { portInUse } from "../../server/port-check.ts";
import { readAcmeSettings } from "../../certs/acme-state.ts";
import { readCertKind } from "../ops/cert-kind.ts";
import { addConfigFlags, type ConfigFlags } from "../ops/config-flags.ts";
import { coverageFix, openUrls } from "../ops/lan-urls.ts";
import { locateServer, reloadAdvice } from "../ops/server-locator.ts";
import { detectFirewall } from "../ops/firewall.ts";
import { fetchHealth, localUrl } from "../ops/health-probe.ts";
import { INSTALL_PATHS } from "../ops/install-paths.ts";
import { mark, printJson, type Level } from "../ops/output.ts";
import { createRunner } from "../ops/runner.ts";
import { verifyUnit } from "../ops/unit-verify.ts";
import { pushSubjectFor } from "../../server/push-setup.ts";
import { probePushReachability, readVapidPublicKey } from "../../server/push/index.ts";

interface Check {
  name: string;
  level: Level;
  detail: string;
  fix?: string;
}

interface DoctorFlags extends ConfigFlags {
  json?: boolean;
  strict?: boolean;
}

/** Earliest plausible "now": a clock before this was never set (no RTC battery, no NTP yet). */
const CLOCK_FLOOR = Date.UTC(2025, 0, 1);

export function cpuHasAes(cpuinfo: string): boolean {
  // x86 lists "aes" in flags; arm64 lists it in Features.
  return /^(flags|features)\s*:.*\baes\b/im.test(cpuinfo);
}

export function registerDoctor(program: Command): void {
  addConfigFlags(
    program
      .command("doctor")
      .description("check port, certificate, key permissions, clock, AES support, firewall, the systemd unit and push; say what to fix")
      .option("--json", "print JSON")
      .option("--strict", "exit 1 on warnings too (for monitoring and CI)"),
    { port: true },
  )
    .addHelpText("after", "\nExit codes: 0 nothing failed (warnings allowed unless --strict), 1 a check failed.\n\nExamples:\n  sudo voicesrv doctor\n  sudo voicesrv doctor --strict --json")
    .action(async (flags: DoctorFlags) => {
      const run = createRunner("live");
      const where = await locateServer(flags, run);
      const c = where.config;
      const checks: Check[] = [];
      const add = (name: string, level: Level, detail: string, fix?: string) => checks.push({ name, level, detail, fix });
      const which = {
        named: `as named (data ${c.dataDir})`,
        systemd: `the installed service (data ${c.dataDir})`,
        "by-hand": `the server started by hand, PID ${where.pid} (data ${c.dataDir})`,
        "installed-config": `the installed config, no server running (data ${c.dataDir})`,
        default: `no server found running; defaults (data ${c.dataDir})`,
      }[where.how];
      add("server", "info", which, where.how === "default" ? "pass --config or --data-dir for a server elsewhere" : undefined);

      let certPem: string | null = null;
      let fingerprint: string | undefined;
      try {
        certPem = await readFile(c.certFile, "utf8");
        const keyPem = await readFile(c.keyFile, "utf8");
        const info = await validateCertificatePair(certPem, keyPem);
        fingerprint = info.fingerprint256;
        if (info.daysLeft <= 14) add("certificate", "warn", `valid, but expires in ${info.daysLeft} days`, "voicesrv cert renew");
        else add("certificate", "ok", `valid for ${info.daysLeft} more days (${[...info.sans.dns, ...info.sans.ip].join(", ")})`);
        // The addresses the box has now (DHCP may have moved it since the certificate was made).
        const kind = c.managed ? readCertKind(c.certDir, info) : "external";
        const urls = openUrls(c.host, c.port, info);
        if (urls.uncovered.length === 0) add("certificate names", "ok", `covers every address this server answers on (${urls.covered.length})`);
        else if (kind === "acme" && urls.covered.length > 0) add("certificate names", "info", `covers ${urls.covered.join(", ")}; not the LAN addresses (${urls.uncovered.length}), which a public certificate cannot name`);
        else add("certificate names", "warn", `does not cover ${urls.uncovered.join(", ")}: phones opening ${urls.uncovered.length > 1 ? "them" : "it"} get a name-mismatch error`, coverageFix(kind).replace(/^`([^`]+)`/, "$1"));
        const acme = kind === "acme" ? await readAcmeSettings(c.certDir) : null;
        if (acme?.failures) add("ACME renewal", "warn", `the last ${acme.failures > 1 ? `${acme.failures} attempts` : "attempt"} failed: ${acme.lastError}`, `fix that, then: sudo voicesrv cert renew`);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code === "ENOENT") add("certificate", c.managed ? "info" : "fail", `no certificate at ${err.path}`, c.managed ? "one is generated on first start" : "fix --cert/--key in the config");
        else {
          add("certificate", "fail", err.message, "voicesrv cert renew, or import a matching pair with voicesrv cert import");
          if (certPem) fingerprint = inspectCertificate(certPem).fingerprint256;
        }
      }

      try {
        const st = await stat(c.keyFile);
        if (st.mode & 0o077) add("key permissions", "fail", `${c.keyFile} is mode ${(st.mode & 0o777).toString(8)}: others can read the private key`, `chmod 600 ${c.keyFile}`);
        else add("key permissions", "ok", `${c.keyFile} is owner-only (${(st.mode & 0o777).toString(8)})`);
      } catch {
        // Reported with the certificate.
      }

      const checkHost = c.host === "0.0.0.0" || c.host === "::" ? "127.0.0.1" : c.host;
      if (await portInUse(checkHost, c.port)) {
        const h = await fetchHealth(localUrl(c.host, c.port, !c.http), { pin: fingerprint });
        if (h.kind === "ok") add("port", "ok", `${c.port} is bound by voicesrv ${h.health.version}`);
        else if (h.kind === "untrusted") add("port", "warn", `${c.port} answers with a certificate that differs from ${c.certFile}`, `${reloadAdvice(where)} (or another program owns the port: pick another --port)`);
        else add("port", "fail", `${c.port} is bound by another program`, `stop it (ss -ltnp 'sport = :${c.port}') or choose another port with install --port`);
      } else add("port", "ok", `${c.port} is free`);

      const now = Date.now();
      if (now < CLOCK_FLOOR) add("clock", "fail", `the clock says ${new Date(now).toISOString()}`, "enable time sync: timedatectl set-ntp true");
      else {
        const ntp = await run.probe(["timedatectl", "show", "--property=NTPSynchronized", "--value"]);
        if (ntp?.code === 0 && ntp.stdout.trim() === "no") add("clock", "warn", "the clock is not synchronised: certificates may look expired or not yet valid to phones", "timedatectl set-ntp true");
        else add("clock", "ok", new Date(now).toISOString());
      }

      let cpuinfo = "";
      try {
        cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
      } catch {
        // Not Linux: nothing to say.
      }
      if (!cpuinfo) add("AES hardware", "info", "cannot read /proc/cpuinfo");
      else if (cpuHasAes(cpuinfo)) add("AES hardware", "ok", "the CPU has AES instructions: TLS costs little");
      else add("AES hardware", "warn", "no AES instructions: TLS uses software AES, fine for a few calls", "expect higher CPU per call (Raspberry Pi 4 and older lack them)");

      const fw = await detectFirewall(run);
      if (!fw) add("firewall", "info", "no firewall found (ufw, firewalld, nftables)");
      else if (fw.undetermined) add("firewall", "info", `cannot read the ${fw.firewall.name} rules without root`, "sudo voicesrv doctor");
      else if (!fw.active) add("firewall", "info", `${fw.firewall.name} is installed but inactive`);
      else if (await fw.firewall.hasRule(c.port)) add("firewall", "ok", `${fw.firewall.name} allows ${c.port}/tcp`);
      else add("firewall", "warn", `${fw.firewall.name} has no rule for ${c.port}/tcp: other devices cannot connect`, "sudo voicesrv install (re-run), or open the port yourself");

      const analyze = run.which("systemd-analyze");
      try {
        await stat(INSTALL_PATHS.unit);
        if (!analyze) add("systemd unit", "info", `${INSTALL_PATHS.unit} exists; systemd-analyze is missing, so it was not verified`);
        else {
          const v = await verifyUnit(run, analyze, INSTALL_PATHS.unit);
          if (v.ok) add("systemd unit", "ok", `${INSTALL_PATHS.unit} verifies`);
          else add("systemd unit", "fail", v.detail, "sudo voicesrv install rewrites the unit");
        }
      } catch {
        add("systemd unit", "info", "not installed as a service (sudo voicesrv install)");
      }

      // Ringing closed apps (issue #9). The push services are probed only when push is set up:
      // an unconfigured box (and every test) makes no connection beyond this machine.
      const subject = pushSubjectFor(c);
      if (!subject.ok) add("push", "info", `ringing closed apps is off: ${subject.reason}`, "set pushSubject in the config (mailto:you@example.org), then restart");
      else {
        const key = await readVapidPublicKey(c.dataDir).catch(() => null);
        add("push", "ok", `on, contact ${subject.subject} (${subject.source})${key ? "" : "; the VAPID key pair is made on the next start"}`);
        const reach = await probePushReachability({ transport: { hosts: c.pushHosts } });
        if (reach.ok) add("push services", "ok", reach.summary);
        else add("push services", reach.reachable.length === 0 ? "warn" : "info", reach.summary, "phones can only be rung while voicesrv is closed if this box can open HTTPS connections to the push services");
      }

      const failed = checks.some((ch) => ch.level === "fail" || (flags.strict && ch.level === "warn"));
      process.exitCode = failed ? 1 : 0;
      if (flags.json) return printJson({ ok: !failed, strict: Boolean(flags.strict), checks });
      for (const ch of checks) {
        console.log(`${mark(ch.level)} ${ch.name.padEnd(16)} ${ch.detail}`);
        if (ch.fix && ch.level !== "ok") console.log(`     ${"".padEnd(16)} fix: ${ch.fix}`);
      }
    });
}
