import type { Command } from "commander";
import { registerBench } from "./bench.ts";
import { registerServe } from "./serve.ts";
import { registerCert } from "./cert.ts";
import { registerInstall } from "./install.ts";
import { registerUninstall } from "./uninstall.ts";
import { registerStatus } from "./status.ts";
import { registerDoctor } from "./doctor.ts";
import { registerLogs } from "./logs.ts";
import { registerGroup } from "./group.ts";
import { registerBackup } from "./backup.ts";
import { registerReload } from "./reload.ts";

// One file per command; each registers itself on the program.
export function registerCommands(program: Command): void {
  registerServe(program);
  registerBench(program);
  registerCert(program);
  registerInstall(program);
  registerUninstall(program);
  registerStatus(program);
  registerDoctor(program);
  registerReload(program);
  registerLogs(program);
  registerGroup(program);
  registerBackup(program);
}
