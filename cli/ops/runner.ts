// The one place voicesrv runs system commands. --dry-run prints changes instead of making them,
// --root (a staging directory) runs nothing at all, and tests point PATH at stub executables.
import { spawn } from "node:child_process";
import { color } from "./output.ts";

export type RunMode = "live" | "dry-run" | "staged";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly result: CommandResult,
  ) {
    const why = (result.stderr || result.stdout).trim().split("\n").slice(-1)[0] ?? "";
    super(`\`${argv.join(" ")}\` exited with ${result.code}${why ? `: ${why}` : ""}`);
    this.name = "CommandError";
  }
}

export interface Runner {
  readonly mode: RunMode;
  /** Full path of an executable on PATH, or null. Staged installs see no system tools. */
  which(name: string): string | null;
  /** Reads system state without changing it: runs live and in --dry-run, never when staged. */
  probe(argv: string[]): Promise<CommandResult | null>;
  /** Changes the system: runs live only; --dry-run prints it; staged skips it. Throws on non-zero exit. */
  change(argv: string[]): Promise<CommandResult>;
  /** Like change, but a non-zero exit is returned instead of thrown (for undo steps and removals). */
  tryChange(argv: string[]): Promise<CommandResult>;
  /** Hands the terminal to the command (journalctl -f); resolves with its exit code. */
  interactive(argv: string[]): Promise<number>;
  /** Every command that changed (or in --dry-run would change) the system, in order. */
  readonly planned: string[][];
}

/** A command as it would be typed into a shell, for printing (never executed through one). */
export function shellLine(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

function which(name: string): string | null {
  return Bun.which(name, { PATH: process.env.PATH ?? "" }) ?? null;
}

function exec(argv: string[], timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LC_ALL: "C" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: e.message });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

const SKIPPED: CommandResult = { code: 0, stdout: "", stderr: "" };

export function createRunner(mode: RunMode, opts: { timeoutMs?: number; echo?: (line: string) => void } = {}): Runner {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const echo = opts.echo ?? ((l: string) => console.log(l));
  const planned: string[][] = [];
  const runChange = async (argv: string[]): Promise<CommandResult> => {
    planned.push(argv);
    if (mode === "dry-run") {
      echo(`      ${color.dim("would run:")} ${shellLine(argv)}`);
      return SKIPPED;
    }
    if (mode === "staged") return SKIPPED;
    return exec(argv, timeoutMs);
  };
  return {
    mode,
    planned,
    which: (name) => (mode === "staged" ? null : which(name)),
    async probe(argv) {
      if (mode === "staged") return null;
      if (!which(argv[0]!) && !argv[0]!.startsWith("/")) return null;
      return exec(argv, timeoutMs);
    },
    async change(argv) {
      const r = await runChange(argv);
      if (r.code !== 0) throw new CommandError(argv, r);
      return r;
    },
    tryChange: runChange,
    interactive(argv) {
      if (mode !== "live") {
        echo(`would run: ${shellLine(argv)}`);
        return Promise.resolve(0);
      }
      return new Promise((resolve) => {
        const child = spawn(argv[0]!, argv.slice(1), { stdio: "inherit" });
        child.on("error", () => resolve(127));
        child.on("close", (code) => resolve(code ?? 1));
      });
    },
  };
}
