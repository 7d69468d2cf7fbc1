// installSteps with a recording runner against a staged root: the scenarios live in
// install-plan.scenarios.ts and run under Bun (the unit templates are Bun text imports).
import { join } from "node:path";
import { describe, expect, test } from "vitest";

const repo = join(import.meta.dirname, "../..");
const bun = join(repo, "node_modules/.bin/bun");
const script = join(import.meta.dirname, "install-plan.scenarios.ts");
const names: string[] = JSON.parse(Bun.spawnSync([bun, script], { cwd: repo }).stdout.toString());

describe("install plan (recording runner, staged root)", () => {
  test("lists its scenarios", () => expect(names.length).toBeGreaterThan(5));
  for (const name of names) {
    test(name, async () => {
      const p = Bun.spawn([bun, script, name], { cwd: repo, env: { ...process.env, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
      const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      expect(stderr + stdout).toBe("");
      expect(code).toBe(0);
    });
  }
});
