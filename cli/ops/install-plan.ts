// `voicesrv install` as steps with undo (steps.ts). Every path is a system path; `target` maps it
// into a staging root for --root and prints instead of writing for --dry-run, and every system
// command goes through `run`, so neither mode can change this machine.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { ensureCertificate, defaultNames, inspectCertificate } from "../../certs/index.ts";
import { portInUse } from "../../server/port-check.ts";
import { writeCertKind } from "./cert-kind.ts";
import { currentSshPort, detectFirewall } from "./firewall.ts";
import { fetchHealth, localUrl } from "./health-probe.ts";
import { INSTALL_PATHS, RENEW_TIMER, SERVICE_NAME, SERVICE_USER } from "./install-paths.ts";
import { readLivePid } from "./pid-file.ts";
import type { Runner } from "./runner.ts";
import { serviceState, systemdRunning, type ServiceState } from "./service-state.ts";
import type { Done, Step } from "./steps.ts";
import { renderUnits } from "./systemd-unit.ts";
import { sameBytes, type Target } from "./target.ts";

export interface InstallOptions {
  port?: number;
  host?: string;
  names?: { hostnames: string[]; ips: string[] } | null;
  binarySource: string | null;
  enableFirewall: boolean;
  healthTimeoutMs?: number;
}

/** What the steps learn as they go, for later steps and the closing summary. */
export interface InstallState {
  port: number;
  host: string;
  service: ServiceState;
  upgrade: boolean;
  binaryChanged: boolean;
  unitsChanged: boolean;
  fingerprint: string | null;
  firewall: string;
  notes: string[];
  /** Files to delete once every step has succeeded (the previous binary kept for rollback). */
  cleanup: string[];
}

const CERT_FILE = join(INSTALL_PATHS.certDir, "cert.pem");
const KEY_FILE = join(INSTALL_PATHS.certDir, "key.pem");

export async function readInstalledConfig(target: Target): Promise<{ port?: number; host?: string; [k: string]: unknown } | null> {
  const raw = await target.read(INSTALL_PATHS.configFile);
  if (raw === null) return null;
  try {
    return JSON.parse(raw);
  } catch {
    throw new Error(`${INSTALL_PATHS.configFile} is not valid JSON: fix or remove it, then install again`);
  }
}

/** Restores a file's previous content (or removes it) — the undo of an overwrite. */
function restorer(target: Target, path: string, previous: string | null, mode: number): () => Promise<void> {
  return async () => {
    if (previous === null) await target.remove(path);
    else await target.write(path, previous, mode);
  };
}

export function installSteps(run: Runner, target: Target, opts: InstallOptions, state: InstallState): Step[] {
  const live = run.mode === "live";
  const staged = run.mode === "staged";
  const skippedStaged: Done = { summary: "skipped: staging root (--root runs no system commands)" };
  /** Dry runs report what would happen, not what did. */
  const did = (past: string, future: string) => (run.mode === "dry-run" ? future : past);

  return [
    {
      title: "Check privileges and systemd",
      fix: "run it as root (sudo voicesrv install) on a machine booted with systemd, or run `voicesrv serve` under your own supervisor",
      async run() {
        if (staged) return { summary: `staging into ${target.root}` };
        const problems: string[] = [];
        if (process.getuid?.() !== 0) problems.push("not running as root");
        if (!systemdRunning() || !run.which("systemctl")) problems.push("systemd is not running on this machine");
        if (problems.length === 0) return { summary: "root, systemd present" };
        if (!live) return { summary: `note: a real install would stop here: ${problems.join("; ")}` };
        throw new Error(problems.join("; "));
      },
    },
    {
      title: "Look for a running voicesrv",
      fix: "stop the other program or pick another port with --port",
      async run() {
        if (staged) return skippedStaged;
        state.service = await serviceState(run);
        if (state.service.active) {
          state.upgrade = true;
          return { summary: `voicesrv.service is running (PID ${state.service.pid}): upgrading in place, keeping config, certificate and data` };
        }
        const checkHost = state.host === "0.0.0.0" || state.host === "::" ? "127.0.0.1" : state.host;
        if (await portInUse(checkHost, state.port)) {
          const byHand = readLivePid(INSTALL_PATHS.stateDir);
          if (byHand) throw new Error(`a voicesrv started by hand (PID ${byHand}) already listens on port ${state.port}: stop it first, the service will take over`);
          throw new Error(`port ${state.port} is already in use by another program`);
        }
        return { summary: `no running instance; port ${state.port} is free` };
      },
    },
    {
      title: `Install the binary as ${INSTALL_PATHS.binary}`,
      fix: "build the binary (npm run build) and run dist/voicesrv install, or free space in /usr/local/bin",
      async run() {
        if (!opts.binarySource) {
          state.notes.push("a real install copies the compiled binary: build it first with npm run build");
          return { summary: "would copy the compiled binary (build the binary first: npm run build)" };
        }
        const dest = target.path(INSTALL_PATHS.binary);
        if (target.exists(INSTALL_PATHS.binary) && sameBytes(opts.binarySource, dest)) return { summary: "already up to date" };
        state.binaryChanged = true;
        const had = target.exists(INSTALL_PATHS.binary);
        const backup = `${INSTALL_PATHS.binary}.previous`;
        if (had && run.mode !== "dry-run") {
          await target.copy(backup, dest, 0o755);
          target.written.pop();
          state.cleanup.push(target.path(backup));
        }
        await target.copy(INSTALL_PATHS.binary, opts.binarySource, 0o755);
        return {
          summary: had ? did("replaced the previous version (kept until install finishes)", "would replace the installed version") : did(`copied ${opts.binarySource}`, `would copy ${opts.binarySource}`),
          undo: async () => {
            if (had) await target.copy(INSTALL_PATHS.binary, target.path(backup), 0o755);
            else await target.remove(INSTALL_PATHS.binary);
            // After an upgrade the rolled-back files need the old process back.
            if (state.upgrade && live) {
              await run.tryChange(["systemctl", "daemon-reload"]);
              await run.tryChange(["systemctl", "restart", SERVICE_NAME]);
            }
          },
          leaves: INSTALL_PATHS.binary,
        };
      },
    },
    {
      title: `Create the system user ${SERVICE_USER} (no shell, no login)`,
      fix: "check /etc/passwd for a conflicting entry and that useradd works",
      async run() {
        if (staged) return skippedStaged;
        const exists = (await run.probe(["getent", "passwd", SERVICE_USER]))?.code === 0;
        if (exists) return { summary: "already exists" };
        const nologin = run.which("nologin") ?? "/usr/sbin/nologin";
        await run.change(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", INSTALL_PATHS.stateDir, "--shell", nologin, "--comment", "voicesrv voice server", SERVICE_USER]);
        return { summary: did("created", "would be created"), undo: async () => void (await run.change(["userdel", SERVICE_USER])), leaves: `system user ${SERVICE_USER}` };
      },
    },
    {
      title: `Create ${INSTALL_PATHS.stateDir} (0750) and ${INSTALL_PATHS.configFile} (0640)`,
      fix: `check that ${INSTALL_PATHS.stateDir} and ${INSTALL_PATHS.configDir} can be created`,
      async run() {
        const undo: (() => Promise<void>)[] = [];
        if (await target.mkdir(INSTALL_PATHS.stateDir, 0o750)) undo.push(async () => void (await target.remove(INSTALL_PATHS.stateDir)));
        if (await target.mkdir(INSTALL_PATHS.configDir, 0o750)) undo.push(async () => void (await target.remove(INSTALL_PATHS.configDir)));
        const previousRaw = await target.read(INSTALL_PATHS.configFile);
        const previous = previousRaw === null ? {} : JSON.parse(previousRaw);
        // Re-installs keep the operator's settings; only --port/--host given now replace them.
        const next = { ...previous, port: state.port, host: state.host, dataDir: INSTALL_PATHS.stateDir };
        const content = JSON.stringify(next, null, 2) + "\n";
        let summary = "config kept";
        if (content !== previousRaw) {
          await target.write(INSTALL_PATHS.configFile, content, 0o640, true);
          undo.push(restorer(target, INSTALL_PATHS.configFile, previousRaw, 0o640));
          summary = `${previousRaw === null ? did("config written", "config would be written") : did("config updated", "config would be updated")}: port ${state.port}, host ${state.host}`;
        }
        // The service reads its config as the voicesrv group; nobody else may.
        await run.change(["chown", `root:${SERVICE_USER}`, INSTALL_PATHS.configDir, INSTALL_PATHS.configFile]);
        return { summary, undo: async () => { for (const u of undo.reverse()) await u(); }, leaves: `${INSTALL_PATHS.stateDir}, ${INSTALL_PATHS.configFile}` };
      },
    },
    {
      title: `Create the TLS certificate in ${INSTALL_PATHS.certDir}`,
      fix: `check ${INSTALL_PATHS.certDir}, or import your own certificate later with voicesrv cert import`,
      async run() {
        const existing = await target.read(CERT_FILE);
        if (existing !== null && target.exists(KEY_FILE)) {
          state.fingerprint = inspectCertificate(existing).fingerprint256;
          await run.change(["chown", "-R", `${SERVICE_USER}:${SERVICE_USER}`, INSTALL_PATHS.stateDir]);
          return { summary: `kept the existing certificate (SHA-256 ${state.fingerprint})` };
        }
        const names = opts.names ?? defaultNames();
        if (run.mode === "dry-run") {
          target.written.push(CERT_FILE, KEY_FILE);
          console.log(`      would generate a self-signed ECDSA P-256 certificate for ${[...names.hostnames, ...names.ips].join(", ")}: ${CERT_FILE} (0644), ${KEY_FILE} (0600)`);
        } else {
          const dir = target.path(INSTALL_PATHS.certDir);
          await ensureCertificate(dir, names);
          await writeCertKind(dir, "self-signed");
          target.written.push(CERT_FILE, KEY_FILE);
          state.fingerprint = inspectCertificate((await target.read(CERT_FILE))!).fingerprint256;
        }
        await run.change(["chown", "-R", `${SERVICE_USER}:${SERVICE_USER}`, INSTALL_PATHS.stateDir]);
        return {
          summary: state.fingerprint ? `generated, SHA-256 ${state.fingerprint}` : undefined,
          undo: async () => void (await rm(target.path(INSTALL_PATHS.certDir), { recursive: true, force: true })),
        };
      },
    },
    {
      title: "Write the systemd units (service, certificate renewal timer)",
      fix: "check /etc/systemd/system is writable",
      async run() {
        const undo: (() => Promise<void>)[] = [];
        for (const unit of renderUnits({ binary: INSTALL_PATHS.binary, config: INSTALL_PATHS.configFile, stateDir: INSTALL_PATHS.stateDir, user: SERVICE_USER, port: state.port })) {
          const previous = await target.read(unit.path);
          if (previous === unit.content) continue;
          await target.write(unit.path, unit.content, 0o644, true);
          undo.push(restorer(target, unit.path, previous, 0o644));
          state.unitsChanged = true;
        }
        return { summary: state.unitsChanged ? did("written", "would be written") : "already up to date", undo: async () => { for (const u of undo.reverse()) await u(); } };
      },
    },
    {
      title: "Enable and start voicesrv.service and the renewal timer",
      fix: "see why with `journalctl -u voicesrv -n 50` and `systemctl status voicesrv`",
      async run() {
        if (staged) return skippedStaged;
        await run.change(["systemctl", "daemon-reload"]);
        await run.change(["systemctl", "enable", "--now", RENEW_TIMER]);
        if (state.upgrade) {
          if (state.binaryChanged || state.unitsChanged) await run.change(["systemctl", "restart", SERVICE_NAME]);
          if (!state.service.enabled) await run.change(["systemctl", "enable", SERVICE_NAME]);
          return { summary: state.binaryChanged || state.unitsChanged ? did("restarted with the new version", "would restart with the new version") : "already running this version" };
        }
        await run.change(["systemctl", "enable", "--now", SERVICE_NAME]);
        return {
          summary: did("enabled and started", "would be enabled and started"),
          undo: async () => {
            await run.tryChange(["systemctl", "disable", "--now", SERVICE_NAME, RENEW_TIMER]);
            await run.tryChange(["systemctl", "daemon-reload"]);
          },
        };
      },
    },
    {
      title: `Wait for ${localUrl(state.host, state.port, true)}/api/health`,
      fix: "see why with `journalctl -u voicesrv -n 50`; `voicesrv doctor` checks the usual causes",
      async run() {
        if (!live) return { summary: staged ? skippedStaged.summary : "would wait up to 30 s for the health check (certificate pinned)" };
        const url = localUrl(state.host, state.port, true);
        const deadline = Date.now() + (opts.healthTimeoutMs ?? 30_000);
        let last = "";
        while (Date.now() < deadline) {
          const r = await fetchHealth(url, { pin: state.fingerprint ?? undefined, timeoutMs: 2000 });
          if (r.kind === "ok") return { summary: `answering: version ${r.health.version}` };
          last = r.detail;
          if (r.kind === "untrusted") break;
          await Bun.sleep(500);
        }
        throw new Error(`voicesrv did not answer its health check: ${last}`);
      },
    },
    {
      title: `Open port ${state.port}/tcp in the firewall`,
      fix: "open the port yourself (ufw allow PORT/tcp, or firewall-cmd --permanent --add-port=PORT/tcp) and install again",
      async run() {
        if (staged) return skippedStaged;
        const found = await detectFirewall(run);
        if (!found) {
          state.firewall = "none found";
          return { summary: "no firewall found (ufw, firewalld, nftables): nothing to open" };
        }
        const { firewall } = found;
        state.firewall = firewall.name;
        if (!found.active && !opts.enableFirewall) {
          state.firewall = `${firewall.name} (inactive)`;
          return { summary: `${firewall.name} is installed but not active: left off (--enable-firewall turns it on, allowing SSH first)` };
        }
        if (!found.active) {
          for (const cmd of firewall.enableCommands(currentSshPort())) await run.change(cmd);
          state.notes.push(`${firewall.name} was enabled, with SSH (port ${currentSshPort()}) allowed first`);
        }
        if (found.active && (await firewall.hasRule(state.port))) return { summary: `${firewall.name}: port ${state.port}/tcp already open` };
        for (const cmd of firewall.openCommands(state.port)) await run.change(cmd);
        if (firewall.persistenceNote) state.notes.push(firewall.persistenceNote);
        return {
          summary: `${firewall.name}: ${did("opened", "would open")} ${state.port}/tcp`,
          undo: async () => {
            for (const cmd of await firewall.closeCommands(state.port)) await run.tryChange(cmd);
          },
          leaves: `${firewall.name} rule for ${state.port}/tcp`,
        };
      },
    },
  ];
}
