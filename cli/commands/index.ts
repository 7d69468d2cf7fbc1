import type { Command } from "commander";
import { registerServe } from "./serve.ts";

// One file per command; each registers itself on the program.
export function registerCommands(program: Command): void {
  registerServe(program);
}
