import type { Command } from "commander";
import { CliError } from "../cli-error.ts";
import { addConfigFlags, configFor, type ConfigFlags } from "../ops/config-flags.ts";
import { signalReload } from "../ops/reload-signal.ts";
import { createRunner } from "../ops/runner.ts";

interface ReloadFlags extends ConfigFlags {
  pid?: string;
}

// The unit's ExecReload (`voicesrv reload --pid $MAINPID`) and the operator's way to make a
// running server re-read its certificate, however it was started. Waits until the process
// handles SIGHUP, so a reload straight after a restart cannot kill the new process.
export function registerReload(program: Command): void {
  addConfigFlags(
    program
      .command("reload")
      .description("make the running server re-read its certificate (SIGHUP); calls stay up")
      .option("--pid <pid>", "signal this voicesrv process (systemd passes $MAINPID)"),
  )
    .addHelpText("after", "\nExamples:\n  sudo voicesrv reload               the service (systemd's MainPID)\n  voicesrv reload -d ./data          a server started by hand (its PID file)")
    .action(async (flags: ReloadFlags) => {
      let pid: number | undefined;
      if (flags.pid !== undefined) {
        pid = Number(flags.pid);
        if (!/^\d+$/.test(flags.pid) || pid < 2) throw new CliError(`--pid must be a process ID, got "${flags.pid}"`, 2);
      }
      const dataDir = pid === undefined ? configFor(flags).dataDir : "";
      const r = await signalReload(createRunner("live"), dataDir, pid);
      if (!r.signalled) throw new CliError(`not reloaded: ${r.reason}`, 1);
      console.log(`sent SIGHUP to voicesrv (PID ${r.pid}, via ${r.via}): it re-reads its certificate; calls stay up`);
    });
}
