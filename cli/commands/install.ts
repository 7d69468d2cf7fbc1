import { realpathSync } from "node:fs";
import { rm } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { DEFAULT_PORT } from "../../server/config.ts";
import { GROUP_POLICIES, GROUP_POLICY_TEXT, type GroupPolicyName } from "../../server/group-policy.ts";
import { CliError } from "../cli-error.ts";
import { binaryToInstall } from "../ops/binary-source.ts";
import { readCertKind } from "../ops/cert-kind.ts";
import { namesFromFlags } from "../ops/cert-ops.ts";
import { INSTALL_PATHS } from "../ops/install-paths.ts";
import { installSteps, readInstalledConfig, type InstallState } from "../ops/install-plan.ts";
import { OPEN_URLS_HINT, openUrlLines, openUrls } from "../ops/lan-urls.ts";
import { color } from "../ops/output.ts";
import { createRunner, shellLine, type RunMode } from "../ops/runner.ts";
import { NO_SERVICE } from "../ops/service-state.ts";
import { runSteps, StepFailure } from "../ops/steps.ts";
import { createTarget } from "../ops/target.ts";
import { parseSubject } from "../../server/push/index.ts";

interface InstallFlags {
  port?: string;
  host?: string;
  hostname?: string;
  san?: string[];
  binary?: string;
  root?: string;
  dryRun?: boolean;
  enableFirewall?: boolean;
  domain?: string;
  email?: string;
  groups?: string;
  pushSubject?: string;
}

export function parseInstallPort(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 65535) throw new CliError(`--port must be a number from 1 to 65535, got "${v}"`, 2);
  return n;
}

export function modeFrom(flags: { root?: string; dryRun?: boolean }): RunMode {
  if (flags.root && flags.dryRun) throw new CliError("choose one of --root and --dry-run", 2);
  if (flags.root) {
    // realpath: a symlink to / (or a path through one) is the real system too.
    if (realRoot(flags.root) === "/") throw new CliError("--root / is the real system: drop --root to install for real", 2);
    return "staged";
  }
  return flags.dryRun ? "dry-run" : "live";
}

function realRoot(root: string): string {
  try {
    return realpathSync(root);
  } catch {
    return resolve(root); // not created yet: install --root makes it
  }
}

/** The closing line: a re-install that changed nothing must not claim an upgrade. */
export function outcomeLine(state: InstallState, mode: RunMode, root: string): string {
  if (mode === "staged") return `Staged install written to ${root}.`;
  if (!state.upgrade) return "voicesrv is installed and running.";
  if (!(state.binaryChanged || state.unitsChanged || state.configChanged)) {
    return state.firewallChanged ? "voicesrv was already up to date (not restarted); its firewall opening is restored." : "voicesrv is already installed and up to date: nothing changed, nothing restarted.";
  }
  const ended = state.liveCallsEnded ? ` (${state.liveCallsEnded} call${state.liveCallsEnded === 1 ? "" : "s"} in progress ended)` : "";
  return state.binaryChanged ? `voicesrv is upgraded and restarted${ended}.` : `voicesrv settings are updated and the service restarted${ended}.`;
}

export function registerInstall(program: Command): void {
  program
    .command("install")
    .description("install voicesrv as a hardened systemd service (re-run to upgrade in place)")
    .option("-p, --port <port>", `port to serve on (default ${DEFAULT_PORT}, or the installed config's)`)
    .option("-H, --host <address>", "address to bind (default 0.0.0.0, or the installed config's)")
    .option("--hostname <name>", "main name for a new certificate, added to this machine's own names and addresses")
    .option("--san <name>", "extra DNS name or IP for the certificate, added to this machine's own names and addresses; repeat or comma-separate", (v: string, p: string[] = []) => [...p, ...v.split(",").map((s) => s.trim()).filter(Boolean)])
    .option("--domain <name>", "public DNS name pointing at this box: get a trusted certificate through ACME (Let's Encrypt, HTTP-01 on port 80)")
    .option("--email <address>", "with --domain: contact address for the CA")
    .option("--groups <mode>", "which groups the server accepts: open (any group URL, plus private groups made in the app), private (private groups only) or operator (only `voicesrv group create`)")
    .option("--push-subject <contact>", "ring closed apps by Web Push: a contact the push services may use (mailto:you@example.org); --domain with --email sets one already")
    .option("--enable-firewall", "turn on an installed but inactive firewall (allowing SSH first)")
    .option("--dry-run", "print every file and command install would write or run, changing nothing")
    .option("--root <dir>", "write the files under a staging directory and run no system commands")
    .option("--binary <file>", "install this file instead of the running executable")
    .addHelpText("after", "\nExamples:\n  sudo ./voicesrv install --port 22000\n  ./voicesrv install --dry-run\n  ./install.sh --port 443")
    .action(async (flags: InstallFlags) => {
      const mode = modeFrom(flags);
      if (flags.email && !flags.domain) throw new CliError("--email goes with --domain", 2);
      if (flags.groups !== undefined && !(GROUP_POLICIES as readonly string[]).includes(flags.groups)) {
        throw new CliError(`--groups must be one of ${GROUP_POLICIES.join(", ")}, got "${flags.groups}"`, 2);
      }
      if (flags.pushSubject !== undefined) {
        const subject = parseSubject(flags.pushSubject);
        if (!subject.ok) throw new CliError(`--push-subject: ${subject.reason}`, 2);
      }
      if (flags.domain && mode === "staged") {
        throw new CliError(`--domain needs the machine itself: the CA checks ${flags.domain} over the internet. Install the staged tree, then run \`sudo voicesrv cert acme --domain ${flags.domain}\` on it`, 2);
      }
      const run = createRunner(mode);
      const target = createTarget(mode, flags.root ? resolve(flags.root) : "/");
      const installed = await readInstalledConfig(target).catch((e: Error) => {
        throw new CliError(e.message, 2);
      });
      const port = flags.port !== undefined ? parseInstallPort(flags.port) : installed?.port ?? DEFAULT_PORT;
      let binarySource: string | null;
      try {
        binarySource = binaryToInstall(flags.binary);
      } catch (e) {
        if (mode !== "dry-run") throw e;
        binarySource = null;
      }
      const state: InstallState = {
        port,
        host: flags.host ?? installed?.host ?? "0.0.0.0",
        service: NO_SERVICE,
        upgrade: false,
        binaryChanged: false,
        unitsChanged: false,
        fingerprint: null,
        firewall: "not checked",
        notes: [],
        cleanup: [],
        ...(flags.groups ? { groups: flags.groups as GroupPolicyName } : {}),
        ...(flags.pushSubject ? { pushSubject: flags.pushSubject } : {}),
      };
      const heading = mode === "dry-run" ? "voicesrv install — dry run: nothing is changed" : mode === "staged" ? `voicesrv install into staging root ${target.root}` : "voicesrv install";
      console.log(color.bold(heading));
      const steps = installSteps(run, target, { binarySource, enableFirewall: Boolean(flags.enableFirewall), names: namesFromFlags(flags.hostname, flags.san ?? []), installed, acme: flags.domain ? { domain: flags.domain, email: flags.email } : null }, state);
      try {
        await runSteps(steps);
      } catch (e) {
        // The previous binary is only garbage once rollback has put it back; if any undo failed,
        // it may be the only copy.
        if (e instanceof StepFailure && e.remaining.length === 0) for (const f of state.cleanup) await rm(f, { force: true });
        else if (state.cleanup.length) console.error(`note: kept ${state.cleanup.join(", ")} (the previous binary) for recovery`);
        throw e;
      }
      for (const f of state.cleanup) await rm(f, { force: true });
      console.log("");
      if (mode === "dry-run") {
        console.log(color.bold("Dry run finished. It would write:"));
        for (const f of target.written) console.log(`  ${f}`);
        console.log(color.bold("and run:"));
        for (const c of run.planned) console.log(`  ${shellLine(c)}`);
        return;
      }
      console.log(color.ok(outcomeLine(state, mode, target.root)));
      if (mode === "live") {
        console.log(`\n${OPEN_URLS_HINT}`);
        const kind = state.certificate ? readCertKind(INSTALL_PATHS.certDir, state.certificate) : "external";
        for (const l of openUrlLines(openUrls(state.host, state.port, state.certificate ?? null, state.http ? "http" : "https"), kind)) console.log(l);
      }
      const policy = (state.groups ?? (installed?.groups as GroupPolicyName | undefined) ?? "open") as GroupPolicyName;
      console.log(`\nGroups: ${policy} — ${GROUP_POLICY_TEXT[policy]} (change with --groups open|private|operator).`);
      const pushContact = state.pushSubject ?? (installed?.pushSubject as string | undefined) ?? (flags.domain ? (flags.email ?? `https://${flags.domain}`) : undefined);
      console.log(pushContact ? `Ringing closed apps: on (push contact ${pushContact}).` : "Ringing closed apps: off — add --push-subject mailto:you@example.org to ring phones whose app is closed.");
      if (state.fingerprint) console.log(`\nCertificate SHA-256 fingerprint (compare it when a browser asks):\n  ${state.fingerprint}`);
      for (const n of state.notes) console.log(`note: ${n}`);
      if (state.acmeFailed) process.exitCode = 1;
      console.log(`
Next steps:
  voicesrv status                 health, certificate, firewall
  voicesrv cert ca                phones trust one private CA instead of a self-signed warning (docs/SETUP.md)
  voicesrv cert acme --domain voice.example.org   a publicly trusted certificate: no trust steps on phones
  voicesrv cert import --cert fullchain.pem --key privkey.pem   a certificate from elsewhere
  Behind Cloudflare Tunnel or a reverse proxy: set "http": true and "host": "127.0.0.1" in ${INSTALL_PATHS.configFile}
  (serve --http), point the tunnel at http://127.0.0.1:${state.port}, then systemctl restart voicesrv (docs/OPERATIONS.md)
  voicesrv logs                   follow the service log`);
    });
}
