// One rule for every command (docs/OPERATIONS.md): a usage mistake is one `voicesrv: …` line on
// stderr and exit 2; an operational failure exits 1; help and version exit 0.
import { join } from "node:path";
import { describe, expect, test } from "vitest";

const repo = join(import.meta.dirname, "../..");
const bun = join(repo, "node_modules/.bin/bun");

function cli(args: string[]) {
  const r = Bun.spawnSync([bun, "cli/main.ts", ...args], { cwd: repo, env: { ...process.env, NO_COLOR: "1", PATH: "/usr/bin:/bin" } });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe("usage mistakes: one line, exit 2", () => {
  const cases: [string, string[], RegExp][] = [
    ["unknown command", ["serv"], /^voicesrv: unknown command 'serv'/],
    ["unknown option", ["status", "--bogus"], /^voicesrv: unknown option '--bogus'/],
    ["missing option value", ["serve", "--port"], /^voicesrv: option .*--port <port>.* argument missing/],
    ["value not among the choices", ["serve", "--log-format", "xml"], /^voicesrv: option .*--log-format.* argument 'xml' is invalid/],
    ["bad value checked by voicesrv", ["serve", "--port", "http", "--print-config"], /^voicesrv: --port must be a number/],
    ["bad --pid", ["reload", "--pid", "abc"], /^voicesrv: --pid must be a process ID/],
    ["unknown cert subcommand", ["cert", "renw"], /^voicesrv: unknown command 'renw'/],
  ];
  for (const [name, args, re] of cases) {
    test(name, () => {
      const r = cli(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(re);
    });
  }

  test("a bare `voicesrv` shows help and exits 2", () => {
    const r = cli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Usage: voicesrv/);
  });
});

describe("help, version and operational failures", () => {
  test("--help has examples and points to the docs; exit 0", () => {
    const r = cli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Examples:\n\s+voicesrv serve/);
    expect(r.stdout).toContain("docs/OPERATIONS.md");
    expect(r.stdout).toMatch(/2 usage mistake/);
  });

  test("--version exits 0", () => {
    const r = cli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  test("an operational failure is one line and exit 1 (reload with nothing running)", () => {
    const r = cli(["reload", "--pid", "999999"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^voicesrv: not reloaded: PID 999999 is not a running voicesrv server/);
  });
});
