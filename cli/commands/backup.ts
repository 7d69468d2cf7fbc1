// `voicesrv backup FILE`: a consistent copy of the member database, safe while the server runs
// (SQLite's VACUUM INTO reads one snapshot). Certificates and config are plain files beside it.
import { chmodSync, existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { openRoster } from "../../server/roster/open-roster.ts";
import { CliError } from "../cli-error.ts";
import { addConfigFlags, configFor, type ConfigFlags } from "../ops/config-flags.ts";
import { becomeDataDirOwner } from "../ops/data-dir-owner.ts";

export function registerBackup(program: Command): void {
  addConfigFlags(
    program
      .command("backup <file>")
      .description("write a consistent copy of the member database (groups, members) while the server runs")
      .addHelpText("after", "\nExample:\n  sudo voicesrv backup /root/voicesrv-$(date +%F).db\n\nRestore: stop the server, copy the file to <data-dir>/voicesrv.db, start it."),
  ).action((file: string, flags: ConfigFlags) => {
    const target = resolve(file);
    if (existsSync(target)) throw new CliError(`${target} exists already; choose a new file name`, 2);
    const { dataDir } = configFor(flags);
    becomeDataDirOwner(dataDir);
    let roster;
    try {
      roster = openRoster(dataDir, { mustExist: true });
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    try {
      roster.backup(target);
    } catch (e) {
      throw new CliError(`cannot write ${target}: ${(e as Error).message}`);
    } finally {
      roster.close();
    }
    chmodSync(target, 0o600);
    console.log(`wrote ${target}`);
  });
}
