import { resolve } from "node:path";
import type { Command } from "commander";
import { CliError } from "../cli-error.ts";
import { detectFirewall, FIREWALL_RECORD, readFirewallRecord } from "../ops/firewall.ts";
import { DATA_PATHS, INSTALL_PATHS, PROGRAM_FILES, RENEW_TIMER, SERVICE_NAME, SERVICE_USER } from "../ops/install-paths.ts";
import { readInstalledConfig } from "../ops/install-plan.ts";
import { color } from "../ops/output.ts";
import { createRunner, type Runner } from "../ops/runner.ts";
import { runSteps, type Step } from "../ops/steps.ts";
import { createTarget, type Target } from "../ops/target.ts";
import { DEFAULT_PORT } from "../../server/config.ts";
import { modeFrom } from "./install.ts";

interface UninstallFlags {
  purge?: boolean;
  root?: string;
  dryRun?: boolean;
}

export function registerUninstall(program: Command): void {
  program
    .command("uninstall")
    .description("stop and remove the service, timer, binary and firewall rule (keeps config and certificate unless --purge)")
    .option("--purge", `also delete ${INSTALL_PATHS.stateDir}, ${INSTALL_PATHS.configDir} and the ${SERVICE_USER} user`)
    .option("--dry-run", "print what would be removed and run, changing nothing")
    .option("--root <dir>", "remove from a staging directory made by install --root; runs no system commands")
    .addHelpText("after", "\nExamples:\n  sudo voicesrv uninstall\n  sudo voicesrv uninstall --purge")
    .action(async (flags: UninstallFlags) => {
      const mode = modeFrom(flags);
      const run = createRunner(mode);
      const target = createTarget(mode, flags.root ? resolve(flags.root) : "/");
      const config = await readInstalledConfig(target).catch(() => null);
      const port = Number(config?.port) || DEFAULT_PORT;
      const removed: string[] = [];
      // Removal has nothing to roll back to; each step still says what to do if it fails.
      const steps: Step[] = [
        {
          title: "Check privileges",
          fix: "run it as root: sudo voicesrv uninstall",
          async run() {
            if (mode === "live" && process.getuid?.() !== 0) throw new Error("not running as root");
            return { summary: mode === "staged" ? `staging root ${target.root}` : undefined };
          },
        },
        {
          title: "Stop and disable voicesrv and the renewal timer",
          fix: "run `systemctl disable --now voicesrv voicesrv-cert-renew.timer` yourself, then uninstall again",
          async run() {
            if (mode === "staged") return { summary: "skipped: staging root" };
            if (!run.which("systemctl")) return { summary: "systemctl not found: nothing to stop" };
            if (!target.exists(INSTALL_PATHS.unit)) return { summary: "not installed as a service" };
            await run.tryChange(["systemctl", "disable", "--now", RENEW_TIMER, SERVICE_NAME]);
            return { summary: mode === "dry-run" ? "would be stopped and disabled" : "stopped and disabled" };
          },
        },
        firewallCloseStep(run, target, port),
        {
          title: "Remove the systemd units and the binary",
          fix: `remove ${PROGRAM_FILES.join(", ")} yourself`,
          async run() {
            for (const f of PROGRAM_FILES) if (await target.remove(f)) removed.push(f);
            if (removed.some((f) => f.endsWith(".service") || f.endsWith(".timer")) && run.which("systemctl")) await run.tryChange(["systemctl", "daemon-reload"]);
            return { summary: removed.length ? `${mode === "dry-run" ? "would remove" : "removed"} ${removed.length} files` : "nothing left to remove" };
          },
        },
        ...(flags.purge
          ? [
              {
                title: `Purge ${DATA_PATHS.join(" and ")} and the ${SERVICE_USER} user`,
                fix: `remove ${DATA_PATHS.join(" and ")} yourself and run userdel ${SERVICE_USER}`,
                async run() {
                  for (const d of DATA_PATHS) if (await target.remove(d)) removed.push(d);
                  if (mode !== "staged" && (await run.probe(["getent", "passwd", SERVICE_USER]))?.code === 0) await run.change(["userdel", SERVICE_USER]);
                  return { summary: "certificate, keys and config deleted" };
                },
              },
            ]
          : []),
      ];
      console.log(color.bold(mode === "dry-run" ? "voicesrv uninstall — dry run: nothing is changed" : "voicesrv uninstall"));
      await runSteps(steps);
      if (!flags.purge) {
        const kept = DATA_PATHS.filter((d) => target.exists(d));
        if (kept.length) console.log(`\nKept ${kept.join(" and ")} (certificate, CA, config) and the ${SERVICE_USER} user: a later install reuses them; --purge deletes them.`);
      }
      if (mode === "live" && removed.length === 0 && !flags.purge) throw new CliError("voicesrv was not installed here: nothing removed", 1);
    });
}

/** Uninstall's firewall step (exported for tests: a recording runner and a staged target). */
export function firewallCloseStep(run: Runner, target: Target, port: number): Step {
  return {
    title: "Close the firewall ports install opened",
    fix: `remove the voicesrv rule yourself (ufw delete allow ${port}/tcp, or firewall-cmd --permanent --remove-port=${port}/tcp)`,
    async run() {
      if (run.mode === "staged") return { summary: "skipped: staging root" };
      // Only the ports install opened itself (recorded when it did): a rule the operator added stays.
      const opened = readFirewallRecord(await target.read(FIREWALL_RECORD));
      if (opened.length === 0) return { summary: "install opened no port: nothing to close" };
      const found = await detectFirewall(run);
      if (!found?.active) return { summary: found ? `${found.firewall.name} is not active: nothing to close` : "no firewall found" };
      const closed: number[] = [];
      for (const p of opened) {
        if (!(await found.firewall.hasRule(p))) continue;
        for (const cmd of await found.firewall.closeCommands(p)) await run.change(cmd);
        closed.push(p);
      }
      await target.remove(FIREWALL_RECORD);
      if (closed.length === 0) return { summary: `${found.firewall.name} has no rule left for ${opened.join(", ")}/tcp` };
      return { summary: `${found.firewall.name}: ${run.mode === "dry-run" ? "would close" : "closed"} ${closed.map((p) => `${p}/tcp`).join(", ")}` };
    },
  };
}
