import type { Command } from "commander";
import { CliError } from "../cli-error.ts";
import { SERVICE_NAME } from "../ops/install-paths.ts";
import { createRunner } from "../ops/runner.ts";

interface LogsFlags {
  lines?: string;
  follow?: boolean;
}

export function registerLogs(program: Command): void {
  program
    .command("logs")
    .description("follow the service log (journalctl -u voicesrv -f)")
    .option("-n, --lines <n>", "lines of history to show first", "50")
    .option("--no-follow", "print and exit instead of following")
    .addHelpText("after", "\nExamples:\n  voicesrv logs\n  voicesrv logs -n 200 --no-follow")
    .action(async (flags: LogsFlags) => {
      if (!/^\d+$/.test(flags.lines ?? "")) throw new CliError(`--lines must be a whole number, got "${flags.lines}"`, 2);
      const run = createRunner("live");
      const journalctl = run.which("journalctl");
      if (!journalctl) throw new CliError("journalctl not found: this machine does not log through systemd — a server started with `voicesrv serve` logs to its terminal", 1);
      const argv = [journalctl, "-u", SERVICE_NAME, "-n", flags.lines!, "--no-pager", ...(flags.follow === false ? [] : ["-f"])];
      const code = await run.interactive(argv);
      // journalctl's own message already explained a failure; exit with its code.
      if (code !== 0 && code !== 130) process.exitCode = code;
    });
}
