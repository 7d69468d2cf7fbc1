#!/usr/bin/env bun
// The one voicesrv executable: every operator command is a subcommand here.
// early-signals comes first of all: it must hold SIGHUP before any other module is evaluated.
import "./early-signals.ts";
// Before @peculiar/x509 on purpose: @peculiar/x509 (tsyringe) needs the Reflect metadata polyfill before
// any module that touches it is evaluated, and the bundler keeps import order.
import "reflect-metadata";
import { Command, CommanderError } from "commander";
import { VERSION } from "../server/version.ts";
import { registerCommands } from "./commands/index.ts";
import { CliError } from "./cli-error.ts";

const program = new Command()
  .name("voicesrv")
  .description("Self-hosted, end-to-end encrypted voice calls for small groups")
  .version(VERSION, "-V, --version")
  .exitOverride()
  // One rule for every command (docs/OPERATIONS.md): a usage mistake is one line on stderr,
  // `voicesrv: …`, and exit 2. Commander's own text keeps its wording, on that one line.
  .configureOutput({
    outputError: (str, write) => write(`voicesrv: ${str.replace(/^error: /, "").replace(/\s*\n\s*/g, " ").trim()} (see voicesrv --help)\n`),
  })
  .addHelpText(
    "after",
    `
Examples:
  voicesrv serve --port 22000                 run in the foreground; open https://<this host>:22000/family
  sudo voicesrv install                       install as a hardened systemd service (re-run to upgrade)
  voicesrv status                             healthy? (exit 0 healthy, 1 degraded, 3 not running)
  sudo voicesrv doctor                        what is wrong and how to fix it
  voicesrv <command> --help                   each command's options, with an example

Exit codes: 0 done, 1 failed, 2 usage mistake (status: 0/1/3).
Documentation: docs/OPERATIONS.md (install, upgrade, status, certificates, logs, proxies),
README.md, docs/PHONE-TRUST.md — in the source tree this binary was built from.`,
  );

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Help and version are exits too (0). Commander already printed its line; every other
    // commander error is a usage mistake, and so is a bare `voicesrv` (help shown, exit 2).
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  if (e instanceof CliError) {
    console.error(`voicesrv: ${e.message}`);
    process.exit(e.exitCode);
  }
  console.error(`voicesrv: ${(e as Error).message ?? e}`);
  process.exit(1);
}
