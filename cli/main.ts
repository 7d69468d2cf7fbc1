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
  .showHelpAfterError("(run voicesrv --help for usage)")
  .exitOverride();

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Help and version are exits too; commander already printed its one readable line.
    process.exit(e.exitCode);
  }
  if (e instanceof CliError) {
    console.error(`voicesrv: ${e.message}`);
    process.exit(e.exitCode);
  }
  console.error(`voicesrv: ${(e as Error).message ?? e}`);
  process.exit(1);
}
