import type { Command } from "commander";
import { registerServe } from "./serve.ts";
import { registerCert } from "./cert.ts";

// One file per command; each registers itself on the program.
export function registerCommands(program: Command): void {
  registerServe(program);
  registerCert(program);
}
