// Scenarios for install-plan.test.ts, run under Bun itself (`bun install-plan.scenarios.ts NAME`):
// the unit renderer imports its templates as Bun text modules, which vitest cannot load. Each
// drives installSteps with a recording runner against a staged root (the runner claims "live",
// so the system steps run, but every command is only recorded and every file lands in the root).
import { deepStrictEqual, match, ok as assertOk, strictEqual, throws } from "node:assert";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureCA, ensureCertificate, generateSelfSigned } from "../../certs/index.ts";
import { modeFrom, outcomeLine } from "../../cli/commands/install.ts";
import { firewallCloseStep } from "../../cli/commands/uninstall.ts";
import { installSteps, type InstallState } from "../../cli/ops/install-plan.ts";
import type { CommandResult, Runner } from "../../cli/ops/runner.ts";
import { NO_SERVICE } from "../../cli/ops/service-state.ts";
import { runSteps, type Step } from "../../cli/ops/steps.ts";
import { defaultUnitOptions, renderUnits } from "../../cli/ops/systemd-unit.ts";
import { createTarget } from "../../cli/ops/target.ts";

const cleanups: (() => unknown)[] = [];

/** The few vitest matchers the scenarios use, on node:assert. */
function expect(actual: any) {
  const m = {
    toBe: (v: unknown) => strictEqual(actual, v),
    toEqual: (v: unknown) => deepStrictEqual(actual, v),
    toBeNull: () => strictEqual(actual, null),
    toContain: (v: unknown) => assertOk(actual.includes(v), `${JSON.stringify(actual)} does not contain ${JSON.stringify(v)}`),
    toContainEqual: (v: unknown) => assertOk(actual.some((a: unknown) => JSON.stringify(a) === JSON.stringify(v)), `${JSON.stringify(actual)} has no ${JSON.stringify(v)}`),
    toMatch: (re: RegExp) => match(String(actual), re),
    toBeGreaterThan: (n: number) => assertOk(actual > n, `${actual} is not > ${n}`),
    toThrow: (re: RegExp) => throws(actual, re),
  };
  return {
    ...m,
    not: {
      toBe: (v: unknown) => assertOk(actual !== v, `${JSON.stringify(v)} twice`),
      toContain: (v: unknown) => assertOk(!actual.includes(v), `${JSON.stringify(actual)} contains ${JSON.stringify(v)}`),
      toMatch: (re: RegExp) => assertOk(!re.test(String(actual)), `${JSON.stringify(actual)} matches ${re}`),
    },
  };
}

const scenarios: Record<string, () => Promise<void>> = {};
let group = "";
function describe(name: string, body: () => void) {
  group = name;
  body();
}
function test(name: string, body: () => Promise<void>) {
  scenarios[`${group} > ${name}`] = body;
}

const ok: CommandResult = { code: 0, stdout: "", stderr: "" };

interface Fake {
  active?: boolean;
  enabled?: boolean;
  /** `ufw status` output; ufw is "installed" when set. */
  ufw?: string;
}

function recorder(f: Fake): Runner & { planned: string[][] } {
  const planned: string[][] = [];
  return {
    mode: "live",
    planned,
    which: (n) => (n === "systemctl" || n === "nologin" || (n === "ufw" && f.ufw !== undefined) ? `/usr/bin/${n}` : null),
    async probe(argv) {
      if (argv[0] === "systemctl" && argv[1] === "show") {
        const stdout = `LoadState=loaded\nActiveState=${f.active ? "active" : "failed"}\nUnitFileState=${f.enabled ? "enabled" : "disabled"}\nMainPID=${f.active ? 4242 : 0}\nActiveEnterTimestamp=\n`;
        return { code: 0, stdout, stderr: "" };
      }
      if (argv[0] === "getent") return ok;
      if (argv[0] === "ufw" && f.ufw !== undefined) return { code: 0, stdout: f.ufw, stderr: "" };
      return null;
    },
    async change(argv) {
      planned.push(argv);
      return ok;
    },
    async tryChange(argv) {
      planned.push(argv);
      return ok;
    },
    async interactive() {
      return 0;
    },
  };
}

async function stagedRoot(config: Record<string, unknown>, unitPort = Number(config.port)): Promise<{ root: string; p: (s: string) => string; bin: string }> {
  const root = await mkdtemp(join(tmpdir(), "voicesrv-plan-"));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  const p = (s: string) => join(root, s);
  const bin = p("fakebin");
  writeFileSync(bin, "binary-v1");
  mkdirSync(p("usr/local/bin"), { recursive: true });
  writeFileSync(p("usr/local/bin/voicesrv"), "binary-v1");
  mkdirSync(p("etc/voicesrv"), { recursive: true });
  writeFileSync(p("etc/voicesrv/config.json"), JSON.stringify(config, null, 2) + "\n");
  mkdirSync(p("etc/systemd/system"), { recursive: true });
  for (const u of renderUnits(defaultUnitOptions(unitPort))) writeFileSync(p(u.path), u.content);
  await ensureCertificate(p("var/lib/voicesrv/certs"));
  return { root, p, bin };
}

function newState(port: number, host: string): InstallState {
  return { port, host, service: NO_SERVICE, upgrade: false, binaryChanged: false, unitsChanged: false, fingerprint: null, firewall: "", notes: [], cleanup: [] };
}

/** Runs the steps (without the root/systemd check), returning the printed lines and the error. */
async function drive(steps: Step[]): Promise<{ lines: string[]; error: Error | null }> {
  const lines: string[] = [];
  try {
    await runSteps(steps.slice(1), (l) => lines.push(l));
    return { lines, error: null };
  } catch (e) {
    return { lines, error: e as Error };
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function occupied(): Promise<number> {
  const s: Server = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  cleanups.push(() => new Promise((r) => s.close(r)));
  return (s.address() as { port: number }).port;
}

const health = { status: "ok", version: "9.9.9", uptimeSeconds: 1, groups: 0, members: 0, calls: 0, connections: 0 };

describe("install upgrade follows the installed config", () => {
  test('"http": true (tunnel) probes http://, and a loopback server gets no firewall step', async () => {
    const srv = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => Response.json(health) });
    cleanups.push(() => srv.stop(true));
    const config = { port: srv.port, host: "127.0.0.1", http: true, dataDir: "/var/lib/voicesrv" };
    const { root, bin } = await stagedRoot(config);
    const run = recorder({ active: true, enabled: true, ufw: "Status: active\n" });
    const target = createTarget("staged", root);
    const steps = installSteps(run, target, { binarySource: bin, enableFirewall: false, names: null, healthTimeoutMs: 3000, installed: config }, newState(srv.port!, "127.0.0.1"));
    const { lines, error } = await drive(steps);
    expect(error).toBeNull();
    expect(lines.join("\n")).toContain(`Wait for http://127.0.0.1:${srv.port}/api/health`);
    expect(lines.join("\n")).toContain("answering: version 9.9.9");
    expect(lines.join("\n")).toContain("loopback only: no firewall opening needed");
    expect(run.planned.filter((c) => c[0] === "ufw")).toEqual([]);
  });

  test("certFile/keyFile in the config: the health check pins that certificate", async () => {
    const own = await generateSelfSigned({ hostnames: ["localhost"], ips: ["127.0.0.1"] });
    const srv = Bun.serve({ hostname: "127.0.0.1", port: 0, tls: { cert: own.certPem, key: own.keyPem }, fetch: () => Response.json(health) });
    cleanups.push(() => srv.stop(true));
    const config = { port: srv.port, host: "127.0.0.1", certFile: "/etc/voicesrv/own.pem", keyFile: "/etc/voicesrv/own-key.pem", dataDir: "/var/lib/voicesrv" };
    const { root, p, bin } = await stagedRoot(config);
    writeFileSync(p("etc/voicesrv/own.pem"), own.certPem);
    writeFileSync(p("etc/voicesrv/own-key.pem"), own.keyPem);
    const run = recorder({ active: true, enabled: true });
    const steps = installSteps(run, createTarget("staged", root), { binarySource: bin, enableFirewall: false, names: null, healthTimeoutMs: 3000, installed: config }, newState(srv.port!, "127.0.0.1"));
    const { lines, error } = await drive(steps);
    expect(error).toBeNull();
    expect(lines.join("\n")).toContain("answering: version 9.9.9");
  });

  test("a new --port that is taken stops the upgrade before anything changes", async () => {
    const oldPort = await freePort();
    const taken = await occupied();
    const config = { port: oldPort, host: "0.0.0.0", dataDir: "/var/lib/voicesrv" };
    const { root, p, bin } = await stagedRoot(config);
    const before = readFileSync(p("etc/voicesrv/config.json"), "utf8");
    const run = recorder({ active: true, enabled: true });
    const steps = installSteps(run, createTarget("staged", root), { binarySource: bin, enableFirewall: false, names: null, healthTimeoutMs: 500, installed: config }, newState(taken, "0.0.0.0"));
    const { error } = await drive(steps);
    expect(error?.message).toMatch(new RegExp(`port ${taken} is already in use`));
    expect(run.planned).toEqual([]);
    expect(readFileSync(p("etc/voicesrv/config.json"), "utf8")).toBe(before);
  });

  test("a changed --host (same binary and units) restarts the service; rollback restores and restarts it", async () => {
    const port = await freePort();
    const config = { port, host: "0.0.0.0", dataDir: "/var/lib/voicesrv" };
    const { root, p, bin } = await stagedRoot(config);
    const before = readFileSync(p("etc/voicesrv/config.json"), "utf8");
    const run = recorder({ active: true, enabled: true });
    const steps = installSteps(run, createTarget("staged", root), { binarySource: bin, enableFirewall: false, names: null, healthTimeoutMs: 600, installed: config }, newState(port, "127.0.0.2"));
    const { error } = await drive(steps);
    // Nothing listens: the health check fails and everything is rolled back.
    expect(error?.message).toMatch(/health check/);
    const cmds = run.planned.map((c) => c.join(" "));
    const restart = cmds.indexOf("systemctl restart voicesrv");
    expect(restart).toBeGreaterThan(-1);
    expect(readFileSync(p("etc/voicesrv/config.json"), "utf8")).toBe(before);
    // After the config is back, systemd re-reads it and the old settings run again.
    expect(cmds.slice(-3)).toEqual(["systemctl daemon-reload", "systemctl reset-failed voicesrv", "systemctl restart voicesrv"]);
    expect(cmds.slice(restart + 1)).not.toContain("systemctl disable voicesrv");
  });

  test("an upgrade keeps the operator's dataDir", async () => {
    const config = { port: 22000, host: "0.0.0.0", dataDir: "/srv/voice" };
    const { root, p, bin } = await stagedRoot(config);
    const run = recorder({});
    const steps = installSteps({ ...run, mode: "staged" }, createTarget("staged", root), { binarySource: bin, enableFirewall: false, names: null, installed: config }, newState(22000, "0.0.0.0"));
    const { error } = await drive(steps);
    expect(error).toBeNull();
    expect(JSON.parse(readFileSync(p("etc/voicesrv/config.json"), "utf8")).dataDir).toBe("/srv/voice");
  });
});

describe("install rollback undoes only what it changed", () => {
  test("a private CA survives, kind stays ca, and an enabled (failed) service stays enabled", async () => {
    const port = await freePort();
    const config = { port, host: "0.0.0.0", dataDir: "/var/lib/voicesrv" };
    const { root, p, bin } = await stagedRoot(config);
    const certDir = p("var/lib/voicesrv/certs");
    await ensureCA(certDir);
    writeFileSync(join(certDir, "kind"), "ca\n");
    rmSync(join(certDir, "key.pem")); // the leaf is regenerated
    const certBefore = readFileSync(join(certDir, "cert.pem"), "utf8");
    const run = recorder({ active: false, enabled: true });
    const steps = installSteps(run, createTarget("staged", root), { binarySource: bin, enableFirewall: false, names: null, installed: config }, newState(port, "0.0.0.0"));
    let kindDuring = "";
    let leafDuring = "";
    const certAt = steps.findIndex((s) => s.title.startsWith("Create the TLS certificate"));
    steps.splice(certAt + 1, 0, {
      title: "observe",
      fix: "",
      async run() {
        kindDuring = readFileSync(join(certDir, "kind"), "utf8");
        leafDuring = readFileSync(join(certDir, "cert.pem"), "utf8");
      },
    });
    // Fail right after the service is enabled and started, without waiting for a health check.
    const enableAt = steps.findIndex((s) => s.title.startsWith("Enable and start"));
    steps.splice(enableAt + 1, steps.length, { title: "fail", fix: "", run: async () => Promise.reject(new Error("boom")) });
    const { error } = await drive(steps);
    expect(error?.message).toMatch(/boom/);
    expect(kindDuring).toBe("ca\n");
    expect(leafDuring).not.toBe(certBefore);
    expect(existsSync(join(certDir, "ca", "ca.pem"))).toBe(true);
    expect(existsSync(join(certDir, "ca", "ca-key.pem"))).toBe(true);
    expect(readFileSync(join(certDir, "kind"), "utf8")).toBe("ca\n");
    expect(readFileSync(join(certDir, "cert.pem"), "utf8")).toBe(certBefore);
    expect(existsSync(join(certDir, "key.pem"))).toBe(false);
    const cmds = run.planned.map((c) => c.join(" "));
    expect(cmds).toContain("systemctl stop voicesrv");
    expect(cmds.filter((c) => c.includes("disable"))).toEqual([]);
  });

  test("the firewall port install opens is recorded, and uninstall closes only recorded ports", async () => {
    const port = await freePort();
    const config = { port, host: "0.0.0.0", dataDir: "/var/lib/voicesrv" };
    const { root, p, bin } = await stagedRoot(config);
    const run = recorder({ ufw: "Status: active\n\nTo Action From\n22/tcp ALLOW Anywhere\n" });
    const target = createTarget("staged", root);
    const steps = installSteps(run, target, { binarySource: bin, enableFirewall: false, names: null, installed: config }, newState(port, "0.0.0.0")).filter((s) => !s.title.startsWith("Wait for"));
    const { error } = await drive(steps);
    expect(error).toBeNull();
    expect(run.planned).toContainEqual(["ufw", "allow", `${port}/tcp`, "comment", "voicesrv"]);
    expect(readFileSync(p("var/lib/voicesrv/.firewall-ports"), "utf8").trim()).toBe(String(port));

    // The operator's own rule for 8443 (say, the config's port now) is not install's to close.
    const rules = `Status: active\n\nTo Action From\n${port}/tcp ALLOW Anywhere\n8443/tcp ALLOW Anywhere\n`;
    const un = recorder({ ufw: rules });
    const { error: unError } = await drive([{ title: "skipped", fix: "", run: async () => {} }, firewallCloseStep(un, target, 8443)]);
    expect(unError).toBeNull();
    expect(un.planned).toEqual([["ufw", "delete", "allow", `${port}/tcp`]]);
    expect(existsSync(p("var/lib/voicesrv/.firewall-ports"))).toBe(false);

    // Nothing recorded: nothing closed.
    const none = recorder({ ufw: rules });
    await drive([{ title: "skipped", fix: "", run: async () => {} }, firewallCloseStep(none, target, 8443)]);
    expect(none.planned).toEqual([]);
  });
});

describe("issue #12 defects", () => {
  test("rollback restores config.json with its previous owner and mode, not root:root 0640", async () => {
    const port = await freePort();
    const config = { port, host: "0.0.0.0", dataDir: "/var/lib/voicesrv" };
    const { root, p, bin } = await stagedRoot(config);
    const file = p("etc/voicesrv/config.json");
    // As install leaves it: root:voicesrv 0640. Here: gid 65534 (a group that is not root's) and
    // mode 0644, so both the owner and the mode must come back for the check to pass.
    chmodSync(file, 0o644);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(file, 0, 65534);
    const before = statSync(file);
    const run = recorder({ active: true, enabled: true });
    // A changed --host rewrites the config; nothing answers the health check, so it rolls back.
    const steps = installSteps(run, createTarget("staged", root), { binarySource: bin, enableFirewall: false, names: null, healthTimeoutMs: 600, installed: config }, newState(port, "127.0.0.2"));
    const { error } = await drive(steps);
    expect(error?.message).toMatch(/health check/);
    expect(error?.message).toMatch(/the system is as it was/);
    const after = statSync(file);
    expect((after.mode & 0o7777).toString(8)).toBe("644");
    expect(`${after.uid}:${after.gid}`).toBe(`${before.uid}:${before.gid}`);
    if (asRoot) expect(after.gid).toBe(65534);
  });

  test("install --port moves the firewall opening: the old recorded rule is closed, the record updated", async () => {
    const oldPort = await freePort();
    const newPort = await freePort();
    const config = { port: oldPort, host: "0.0.0.0", dataDir: "/var/lib/voicesrv" };
    const { root, p, bin } = await stagedRoot(config);
    writeFileSync(p("var/lib/voicesrv/.firewall-ports"), `${oldPort}\n`);
    const run = recorder({ ufw: `Status: active\n\nTo Action From\n22/tcp ALLOW Anywhere\n${oldPort}/tcp ALLOW Anywhere\n` });
    const steps = installSteps(run, createTarget("staged", root), { binarySource: bin, enableFirewall: false, names: null, installed: config }, newState(newPort, "0.0.0.0")).filter((s) => !s.title.startsWith("Wait for"));
    const { lines, error } = await drive(steps);
    expect(error).toBeNull();
    expect(run.planned).toContainEqual(["ufw", "allow", `${newPort}/tcp`, "comment", "voicesrv"]);
    expect(run.planned).toContainEqual(["ufw", "delete", "allow", `${oldPort}/tcp`]);
    expect(readFileSync(p("var/lib/voicesrv/.firewall-ports"), "utf8").trim()).toBe(String(newPort));
    expect(lines.join("\n")).toContain(`closed the old port ${oldPort}/tcp`);
  });

  test("an old port the operator opened (not recorded) is left alone", async () => {
    const oldPort = await freePort();
    const newPort = await freePort();
    const config = { port: oldPort, host: "0.0.0.0", dataDir: "/var/lib/voicesrv" };
    const { root, bin } = await stagedRoot(config);
    const run = recorder({ ufw: `Status: active\n\nTo Action From\n${oldPort}/tcp ALLOW Anywhere\n` });
    const steps = installSteps(run, createTarget("staged", root), { binarySource: bin, enableFirewall: false, names: null, installed: config }, newState(newPort, "0.0.0.0")).filter((s) => !s.title.startsWith("Wait for"));
    const { error } = await drive(steps);
    expect(error).toBeNull();
    expect(run.planned.filter((c) => c[1] === "delete")).toEqual([]);
  });

  test("an upgrade says how many calls the restart ends, from /metrics when the server has it, else /api/health", async () => {
    for (const withMetrics of [true, false]) {
      const srv = Bun.serve({
        hostname: "127.0.0.1",
        port: 0,
        fetch: (req) => {
          const path = new URL(req.url).pathname;
          if (path === "/metrics" && withMetrics) return new Response("# TYPE voicesrv_calls gauge\nvoicesrv_calls 2\nvoicesrv_members 4\nvoicesrv_groups 1\nvoicesrv_connections 4\nvoicesrv_uptime_seconds 9\n");
          if (path === "/api/health") return Response.json({ ...health, calls: withMetrics ? 0 : 3, members: 6 });
          return new Response("not found", { status: 404 });
        },
      });
      cleanups.push(() => srv.stop(true));
      const config = { port: srv.port, host: "127.0.0.1", http: true, dataDir: "/var/lib/voicesrv" };
      const { root, bin } = await stagedRoot(config);
      writeFileSync(bin, "binary-v2");
      const run = recorder({ active: true, enabled: true });
      const state = newState(srv.port!, "127.0.0.1");
      const printed: string[] = [];
      const log = console.log;
      console.log = (...a: unknown[]) => void printed.push(a.join(" "));
      try {
        const steps = installSteps(run, createTarget("staged", root), { binarySource: bin, enableFirewall: false, names: null, healthTimeoutMs: 3000, installed: config }, state);
        const { error } = await drive(steps);
        expect(error).toBeNull();
      } finally {
        console.log = log;
      }
      const n = withMetrics ? 2 : 3;
      expect(printed.join("\n")).toContain(`${n} calls in progress will end now`);
      expect(state.liveCallsEnded).toBe(n);
      expect(outcomeLine(state, "live", "/")).toBe(`voicesrv is upgraded and restarted (${n} calls in progress ended).`);
    }
  });

  test("a re-install that changes nothing does not say upgraded", async () => {
    const config = { port: 22000, host: "0.0.0.0", dataDir: "/var/lib/voicesrv" };
    const { root, bin } = await stagedRoot(config, 22000);
    const run = recorder({ active: true, enabled: true });
    const state = newState(22000, "0.0.0.0");
    // Same binary, same config, same units; stop before the health check (nothing listens).
    const steps = installSteps(run, createTarget("staged", root), { binarySource: bin, enableFirewall: false, names: null, installed: config }, state).filter((s) => !s.title.startsWith("Wait for") && !s.title.startsWith("Open port"));
    const { error } = await drive(steps);
    expect(error).toBeNull();
    expect(run.planned.map((c) => c.join(" "))).not.toContain("systemctl restart voicesrv");
    const line = outcomeLine(state, "live", "/");
    expect(line).not.toMatch(/upgraded/);
    expect(line).toMatch(/nothing changed/);
    expect(outcomeLine({ ...state, binaryChanged: true }, "live", "/")).toMatch(/upgraded/);
  });
});

describe("install --root", () => {
  test("a symlink to / is the real system and is refused", async () => {
    const dir = await mkdtemp(join(tmpdir(), "voicesrv-link-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    symlinkSync("/", join(dir, "sysroot"));
    expect(() => modeFrom({ root: join(dir, "sysroot") })).toThrow(/real system/);
    expect(modeFrom({ root: join(dir, "not-yet") })).toBe("staged");
  });
});

const name = process.argv[2];
if (!name) {
  console.log(JSON.stringify(Object.keys(scenarios)));
} else {
  try {
    await scenarios[name]!();
  } finally {
    for (const c of cleanups.splice(0).reverse()) await c();
  }
}
