// `voicesrv install` as steps with undo (steps.ts). Every path is a system path; `target` maps it
// into a staging root for --root and prints instead of writing for --dry-run, and every system
// command goes through `run`, so neither mode can change this machine.
import { existsSync, lstatSync } from "node:fs";
import { join } from "node:path";
import { CA_CERT_FILE, CA_DIR, CA_KEY_FILE, certificateCovers, EXTRA_NAMES_FILE, ensureCA, ensureCertificate, inspectCertificate, issueServerCertificate, mergeNames, namesForCertDir, readExtraNames, defaultNames, writeCertificatePair, writeExtraNames, type CertInfo } from "../../certs/index.ts";
import type { GroupPolicyName } from "../../server/group-policy.ts";
import { certPaths, resolveConfig, type PartialConfig, type ServerConfig } from "../../server/config.ts";
import { portInUse } from "../../server/port-check.ts";
import { obtainAcme } from "./acme-ops.ts";
import { KIND_FILE, writeCertKind } from "./cert-kind.ts";
import { signalReload } from "./reload-signal.ts";
import { detectFirewall, FIREWALL_RECORD, isLoopbackHost, readFirewallRecord, sshPorts } from "./firewall.ts";
import { fetchHealth, localUrl } from "./health-probe.ts";
import { liveCounts } from "./live-calls.ts";
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
  /** The installed config.json (readInstalledConfig), if any: http, certFile, dataDir… shape every later step. */
  installed?: Record<string, unknown> | null;
  /** --domain: obtain a publicly trusted certificate through ACME once the service runs. */
  acme?: { domain: string; email?: string } | null;
}

/** What the steps learn as they go, for later steps and the closing summary. */
export interface InstallState {
  port: number;
  host: string;
  service: ServiceState;
  upgrade: boolean;
  binaryChanged: boolean;
  unitsChanged: boolean;
  /** config.json was rewritten (--port/--host changed): the running service must restart to see it. */
  configChanged?: boolean;
  /** --groups: which groups the server accepts (written to config.json when given). */
  groups?: GroupPolicyName;
  /** --push-subject: the Web Push contact (written to config.json when given). */
  pushSubject?: string;
  /** Calls in progress when the upgrade restarted the service (each one ended), if known. */
  liveCallsEnded?: number;
  /** The firewall step opened or closed a port. */
  firewallChanged?: boolean;
  fingerprint: string | null;
  /** The certificate the service will serve, for the URLs printed at the end (null: none yet or http). */
  certificate?: CertInfo | null;
  /** The service answers plain HTTP ("http": true behind a tunnel). */
  http?: boolean;
  /** --domain was given but the ACME order failed (the reason is in notes). */
  acmeFailed?: boolean;
  firewall: string;
  notes: string[];
  /** Files to delete once every step has succeeded (the previous binary kept for rollback). */
  cleanup: string[];
}

const CERT_FILE = join(INSTALL_PATHS.certDir, "cert.pem");
const ACME_HTTP_PORT = 80;
const EXTRA_NAMES = join(INSTALL_PATHS.certDir, EXTRA_NAMES_FILE);
const ACME_SETTINGS = join(INSTALL_PATHS.certDir, "acme", "settings.json");
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

/** The config install writes: the operator's, with only port/host replaced (dataDir stays theirs). */
function nextConfig(previous: Record<string, unknown>, state: InstallState): Record<string, unknown> {
  return { ...previous, port: state.port, host: state.host, dataDir: previous.dataDir ?? INSTALL_PATHS.stateDir, ...(state.groups ? { groups: state.groups } : {}), ...(state.pushSubject ? { pushSubject: state.pushSubject } : {}) };
}

/** The config as the service will read it; an invalid one still yields its http/cert fields so the plan can print. */
function effectiveConfig(raw: Record<string, unknown>): ServerConfig {
  try {
    return resolveConfig([raw as PartialConfig]);
  } catch {
    return { ...(raw as unknown as ServerConfig), http: raw.http === true, dataDir: String(raw.dataDir ?? INSTALL_PATHS.stateDir) };
  }
}

/** A file's mode and owner, read before it is overwritten, so an undo can put them back. */
interface FileMeta {
  mode: number;
  uid: number;
  gid: number;
}

function fileMeta(target: Target, path: string): FileMeta | null {
  try {
    const st = lstatSync(target.path(path));
    return st.isFile() ? { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid } : null;
  } catch {
    return null;
  }
}

/**
 * Restores a file's previous content (or removes it) — the undo of an overwrite. With `meta`
 * (read before the overwrite) its mode and owner come back too: config.json is root:voicesrv,
 * and restored as root:root the service can no longer read it (issue #12, defect 1). Only root
 * can give a file away; anyone else restores it as their own, as it was written.
 */
function restorer(target: Target, path: string, previous: string | null, mode: number, meta: FileMeta | null = null): () => Promise<void> {
  return async () => {
    if (previous === null) await target.remove(path);
    else await target.write(path, previous, meta?.mode ?? mode, false, meta && process.getuid?.() === 0 ? { uid: meta.uid, gid: meta.gid } : undefined);
  };
}

function noteCertificate(state: InstallState, pem: string | null): void {
  state.certificate = pem === null ? null : inspectCertificate(pem);
  state.fingerprint = state.certificate?.fingerprint256 ?? null;
}

export function installSteps(run: Runner, target: Target, opts: InstallOptions, state: InstallState): Step[] {
  const live = run.mode === "live";
  const staged = run.mode === "staged";
  const skippedStaged: Done = { summary: "skipped: staging root (--root runs no system commands)" };
  /** Dry runs report what would happen, not what did. */
  const did = (past: string, future: string) => (run.mode === "dry-run" ? future : past);
  // Replaced by the config step with what it actually writes; until then, what it will write.
  let cfg = effectiveConfig(nextConfig(opts.installed ?? {}, state));
  const healthUrl = () => localUrl(cfg.host, cfg.port, !cfg.http);

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
        // Runs last in a rollback, after the binary, config and units are restored: systemd must
        // re-read the old units, and an upgraded service must run the old version again.
        const undo = async () => {
          if (!live || !(state.binaryChanged || state.unitsChanged || state.configChanged)) return;
          await run.tryChange(["systemctl", "daemon-reload"]);
          if (state.upgrade) {
            // A new binary that crash-looped may have hit the start limit: restart would refuse.
            await run.tryChange(["systemctl", "reset-failed", SERVICE_NAME]);
            await run.tryChange(["systemctl", "restart", SERVICE_NAME]);
          }
        };
        if (state.service.active) {
          state.upgrade = true;
          const oldPort = Number(opts.installed?.port) || state.port;
          // The running service holds the old port (so it cannot be probed); a new --port must be
          // free before the restart moves the service there.
          if (oldPort !== state.port && (await portInUse(state.host, state.port))) {
            throw new Error(`port ${state.port} is already in use by another program`);
          }
          return { summary: `voicesrv.service is running (PID ${state.service.pid}): upgrading in place, keeping config, certificate and data`, undo };
        }
        const checkHost = state.host === "0.0.0.0" || state.host === "::" ? "127.0.0.1" : state.host;
        if (await portInUse(checkHost, state.port)) {
          const byHand = readLivePid(INSTALL_PATHS.stateDir);
          if (byHand) throw new Error(`a voicesrv started by hand (PID ${byHand}) already listens on port ${state.port}: stop it first, the service will take over`);
          throw new Error(`port ${state.port} is already in use by another program`);
        }
        return { summary: `no running instance; port ${state.port} is free`, undo };
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
            // The restart onto the old binary is the "Look for a running voicesrv" undo, after this.
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
        // Re-installs keep the operator's settings (dataDir included); only --port/--host given now replace them.
        const next = nextConfig(previous, state);
        cfg = effectiveConfig(next);
        state.http = cfg.http;
        const content = JSON.stringify(next, null, 2) + "\n";
        let summary = "config kept";
        if (content !== previousRaw) {
          state.configChanged = true;
          const meta = fileMeta(target, INSTALL_PATHS.configFile);
          await target.write(INSTALL_PATHS.configFile, content, 0o640, true);
          undo.push(restorer(target, INSTALL_PATHS.configFile, previousRaw, 0o640, meta));
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
        const own = certPaths(cfg);
        if (!own.managed) {
          // The operator's own certFile/keyFile: the service never reads the managed one.
          noteCertificate(state, await target.read(own.certFile));
          await run.change(["chown", "-R", `${SERVICE_USER}:${SERVICE_USER}`, INSTALL_PATHS.stateDir]);
          return { summary: `config names its own certificate (${own.certFile}): nothing to create` };
        }
        const dir = target.path(INSTALL_PATHS.certDir);
        const namesBefore = await target.read(EXTRA_NAMES);
        const undoNames = restorer(target, EXTRA_NAMES, namesBefore, 0o644);
        // --san/--hostname are remembered next to the certificate: the first start on a staged
        // target and every renewal add them to the machine's own names.
        const rememberNames = async () => {
          if (!opts.names) return;
          if (run.mode === "dry-run") target.written.push(EXTRA_NAMES);
          else await writeExtraNames(dir, opts.names);
        };
        if (staged) {
          // A staged tree may become a package installed on many machines: one key for all of them
          // would let each impersonate the others. The service makes its own on first start.
          await rememberNames();
          return {
            summary: `no key staged: the certificate is made on the target at its first start, for its own names and addresses${opts.names ? ` plus ${[...opts.names.hostnames, ...opts.names.ips].join(", ")}` : ""}`,
            undo: undoNames,
          };
        }
        const existing = await target.read(CERT_FILE);
        if (existing !== null && target.exists(KEY_FILE)) {
          noteCertificate(state, existing);
          await rememberNames();
          const missing = opts.names ? [...opts.names.hostnames, ...opts.names.ips].filter((n) => !certificateCovers(state.certificate!.sans, n)) : [];
          if (missing.length) state.notes.push(`the existing certificate does not cover ${missing.join(", ")}: \`sudo voicesrv cert renew\` adds them`);
          await run.change(["chown", "-R", `${SERVICE_USER}:${SERVICE_USER}`, INSTALL_PATHS.stateDir]);
          return { summary: `kept the existing certificate (SHA-256 ${state.fingerprint})`, undo: undoNames };
        }
        // A private CA (voicesrv cert ca) stays the issuer: phones already trust it, and `kind`
        // stays "ca" so the renewal timer keeps issuing from it.
        // Both halves: with ca.pem but no key, ensureCA would mint a new CA over the trusted one.
        const hasCA = existsSync(join(dir, CA_DIR, CA_CERT_FILE)) && existsSync(join(dir, CA_DIR, CA_KEY_FILE));
        // Undo restores exactly these files; anything else in certs/ (the CA) is left alone.
        const KIND = join(INSTALL_PATHS.certDir, KIND_FILE);
        const before = await Promise.all([CERT_FILE, KEY_FILE, KIND].map(async (f) => [f, await target.read(f)] as const));
        if (run.mode === "dry-run") {
          await rememberNames();
          const names = mergeNames(opts.names ?? readExtraNames(dir), defaultNames());
          target.written.push(CERT_FILE, KEY_FILE);
          console.log(`      would ${hasCA ? "issue a certificate from the private CA" : "generate a self-signed ECDSA P-256 certificate"} for ${[...names.hostnames, ...names.ips].join(", ")}: ${CERT_FILE} (0644), ${KEY_FILE} (0600)`);
        } else {
          await rememberNames();
          if (hasCA) {
            const pair = await issueServerCertificate(await ensureCA(dir), namesForCertDir(dir));
            await writeCertificatePair(dir, pair.certPem, pair.keyPem);
            await writeCertKind(dir, "ca");
          } else {
            await ensureCertificate(dir);
            await writeCertKind(dir, "self-signed");
          }
          target.written.push(CERT_FILE, KEY_FILE);
          noteCertificate(state, await target.read(CERT_FILE));
        }
        await run.change(["chown", "-R", `${SERVICE_USER}:${SERVICE_USER}`, INSTALL_PATHS.stateDir]);
        return {
          summary: state.fingerprint ? `${hasCA ? "issued from the private CA" : "generated"}, SHA-256 ${state.fingerprint}` : undefined,
          undo: async () => {
            for (const [f, previous] of before) await restorer(target, f, previous, f === CERT_FILE ? 0o644 : 0o600)();
            await undoNames();
            // Restored files are written by root; the service reads its key as voicesrv.
            await run.tryChange(["chown", "-R", `${SERVICE_USER}:${SERVICE_USER}`, INSTALL_PATHS.certDir]);
          },
        };
      },
    },
    {
      title: "Write the systemd units (service, certificate renewal timer)",
      fix: "check /etc/systemd/system is writable",
      async run() {
        const undo: (() => Promise<void>)[] = [];
        // An ACME certificate (now or from before) needs port 80 for the server and the network for renewals.
        const acme = Boolean(opts.acme) || target.exists(ACME_SETTINGS);
        for (const unit of renderUnits({ binary: INSTALL_PATHS.binary, config: INSTALL_PATHS.configFile, stateDir: INSTALL_PATHS.stateDir, user: SERVICE_USER, port: state.port, acme })) {
          const previous = await target.read(unit.path);
          if (previous === unit.content) continue;
          const meta = fileMeta(target, unit.path);
          await target.write(unit.path, unit.content, 0o644, true);
          undo.push(restorer(target, unit.path, previous, 0o644, meta));
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
        // What was enabled or running before: rollback undoes only what this step changed (a
        // previously enabled service that had failed stays enabled).
        const timer = await serviceState(run, RENEW_TIMER);
        const undo = async () => {
          if (!timer.active) await run.tryChange(["systemctl", "stop", RENEW_TIMER]);
          if (!timer.enabled) await run.tryChange(["systemctl", "disable", RENEW_TIMER]);
          if (!state.service.active) await run.tryChange(["systemctl", "stop", SERVICE_NAME]);
          if (!state.service.enabled) await run.tryChange(["systemctl", "disable", SERVICE_NAME]);
        };
        await run.change(["systemctl", "daemon-reload"]);
        await run.change(["systemctl", "enable", "--now", RENEW_TIMER]);
        if (state.upgrade) {
          const changed = state.binaryChanged || state.unitsChanged || state.configChanged;
          if (changed && live) {
            // A restart ends every call in progress (the app reconnects, the call does not
            // resume): say how many before doing it. The old config is still what runs.
            const was = effectiveConfig(opts.installed ? { ...opts.installed, dataDir: opts.installed.dataDir ?? INSTALL_PATHS.stateDir } : nextConfig({}, state));
            const pem = was.http ? null : await target.read(certPaths(was).certFile);
            const counts = await liveCounts(localUrl(was.host, was.port, !was.http), pem ? inspectCertificate(pem).fingerprint256 : undefined);
            if (counts) {
              const line = `${counts.calls} call${counts.calls === 1 ? "" : "s"} in progress${counts.calls ? " will end now: a restart ends calls (people call again once the app reconnects)" : ": nothing is interrupted"}`;
              console.log(`      ${line}`);
              state.liveCallsEnded = counts.calls;
            }
          }
          if (changed) await run.change(["systemctl", "restart", SERVICE_NAME]);
          if (!state.service.enabled) await run.change(["systemctl", "enable", SERVICE_NAME]);
          return { summary: changed ? did("restarted with the new version or settings", "would restart with the new version or settings") : "already running this version", undo };
        }
        await run.change(["systemctl", "enable", "--now", SERVICE_NAME]);
        return { summary: did("enabled and started", "would be enabled and started"), undo };
      },
    },
    {
      title: `Wait for ${healthUrl()}/api/health`,
      fix: "see why with `journalctl -u voicesrv -n 50`; `voicesrv doctor` checks the usual causes",
      async run() {
        if (!live) return { summary: staged ? skippedStaged.summary : `would wait up to 30 s for the health check${cfg.http ? "" : " (certificate pinned)"}` };
        // "http": true (behind a tunnel) answers plain HTTP; otherwise pin the certificate the
        // service actually serves: the configured certFile, or the managed one in its dataDir.
        const url = healthUrl();
        const pinFile = certPaths(cfg).certFile;
        const deadline = Date.now() + (opts.healthTimeoutMs ?? 30_000);
        let last = "";
        // A binary that exits at once would otherwise be waited on for the whole timeout while
        // systemd restarts it over and over: say so as soon as systemd has seen it exit.
        const crashed = async (): Promise<string | null> => {
          const r = await run.probe(["systemctl", "show", SERVICE_NAME, "--property=ActiveState,SubState,NRestarts,ExecMainStatus"]);
          if (!r || r.code !== 0) return null;
          const p = Object.fromEntries(r.stdout.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
          if (p.SubState === "auto-restart" || p.ActiveState === "failed" || Number(p.NRestarts) > restartsBefore) {
            return `voicesrv.service exited (status ${p.ExecMainStatus || "?"}) and systemd is restarting it`;
          }
          return null;
        };
        const restartsBefore = Number((await run.probe(["systemctl", "show", SERVICE_NAME, "--property=NRestarts", "--value"]))?.stdout.trim()) || 0;
        while (Date.now() < deadline) {
          const dead = await crashed();
          if (dead) throw new Error(dead);
          // Read each time: a service with a dataDir of its own creates the certificate on first start.
          const pem = cfg.http ? null : await target.read(pinFile);
          const r = await fetchHealth(url, { pin: pem ? inspectCertificate(pem).fingerprint256 : undefined, timeoutMs: 2000 });
          if (r.kind === "ok") return { summary: `answering: version ${r.health.version}` };
          last = r.detail;
          if (r.kind === "untrusted" && pem) break;
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
        // A loopback server (behind a tunnel or proxy) takes no outside connections.
        if (isLoopbackHost(state.host)) {
          state.firewall = "not needed (loopback)";
          return { summary: `${state.host} is loopback only: no firewall opening needed` };
        }
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
          const ssh = await sshPorts(run);
          for (const cmd of firewall.enableCommands(ssh)) await run.change(cmd);
          state.notes.push(`${firewall.name} was enabled, with SSH (port ${ssh.join(", ")}) allowed first`);
        }
        // Uninstall closes only ports recorded here: rules the operator added stay.
        const recordBefore = await target.read(FIREWALL_RECORD);
        const recorded = readFirewallRecord(recordBefore);
        const undo: (() => Promise<void>)[] = [];
        const said: string[] = [];
        const opened = !(found.active && (await firewall.hasRule(state.port)));
        if (!opened) said.push(`port ${state.port}/tcp already open`);
        else {
          for (const cmd of firewall.openCommands(state.port)) await run.change(cmd);
          if (firewall.persistenceNote) state.notes.push(firewall.persistenceNote);
          undo.push(async () => { for (const cmd of await firewall.closeCommands(state.port)) await run.tryChange(cmd); });
          said.push(`${did("opened", "would open")} ${state.port}/tcp`);
        }
        // A move to another --port closes the old port's rule, if install opened it (issue #12,
        // defect 5): left open, it is a hole nothing listens behind until something else does.
        const oldPort = Number(opts.installed?.port) || null;
        const stale = oldPort !== null && oldPort !== state.port && recorded.includes(oldPort) ? oldPort : null;
        if (stale !== null) {
          for (const cmd of await firewall.closeCommands(stale)) await run.change(cmd);
          undo.push(async () => { for (const cmd of firewall.openCommands(stale)) await run.tryChange(cmd); });
          said.push(`${did("closed", "would close")} the old port ${stale}/tcp`);
        }
        // The current port is recorded only if install opened it (now or before): a rule the
        // operator made stays theirs, and uninstall leaves it.
        if (opened || stale !== null) state.firewallChanged = true;
        const keep = recorded.filter((p) => p !== stale);
        const next = opened && !keep.includes(state.port) ? [...keep, state.port] : keep;
        if (next.join(",") !== recorded.join(",")) await target.write(FIREWALL_RECORD, next.join("\n") + "\n", 0o640);
        return {
          summary: `${firewall.name}: ${said.join("; ")}`,
          undo: async () => {
            // Newest first: reopen the old port before closing the new one.
            for (const u of undo.reverse()) await u();
            await restorer(target, FIREWALL_RECORD, recordBefore, 0o640)();
          },
          leaves: `${firewall.name} rule for ${state.port}/tcp`,
        };
      },
    },
    // Last: it needs the running service (to reload) and the firewall step's openings.
    ...(opts.acme ? [acmeStep(run, target, opts.acme, state, () => cfg)] : []),
  ];
}

/**
 * --domain: once the service answers, ask the CA (HTTP-01 on port 80, answered by this process
 * or by the service) and reload the service onto the result. A failure is not rolled back: the
 * service keeps running on the self-signed certificate, and the reason is printed with the fix.
 */
function acmeStep(run: Runner, target: Target, acme: { domain: string; email?: string }, state: InstallState, cfg: () => ServerConfig): Step {
  return {
    title: `Get a certificate for ${acme.domain} through ACME (HTTP-01 on port 80)`,
    fix: `point ${acme.domain}'s DNS at this box and forward TCP port 80 to it, then run \`sudo voicesrv cert acme --domain ${acme.domain}\``,
    async run() {
      if (run.mode !== "live") return { summary: `would obtain a certificate for ${acme.domain} from Let's Encrypt and reload the service` };
      const paths = certPaths(cfg());
      if (!paths.managed) return { summary: `skipped: the config names its own certificate (${paths.certFile})` };
      const certDir = target.path(INSTALL_PATHS.certDir);
      // The CA connects to port 80: an active firewall must let it in (recorded, so uninstall closes it).
      const found = isLoopbackHost(state.host) ? null : await detectFirewall(run);
      if (found?.active && !(await found.firewall.hasRule(ACME_HTTP_PORT))) {
        for (const cmd of found.firewall.openCommands(ACME_HTTP_PORT)) await run.change(cmd);
        const recorded = readFirewallRecord(await target.read(FIREWALL_RECORD));
        if (!recorded.includes(ACME_HTTP_PORT)) await target.write(FIREWALL_RECORD, [...recorded, ACME_HTTP_PORT].join("\n") + "\n", 0o640);
        state.notes.push(`${found.firewall.name}: opened ${ACME_HTTP_PORT}/tcp for ACME validation and the redirect to https`);
      }
      try {
        const r = await obtainAcme(certDir, { domain: acme.domain, email: acme.email, host: state.host, httpsPort: state.port }, state.certificate ?? null);
        await run.change(["chown", "-R", `${SERVICE_USER}:${SERVICE_USER}`, INSTALL_PATHS.certDir]);
        const reload = await signalReload(run, cfg().dataDir);
        state.certificate = r.info;
        state.fingerprint = r.info.fingerprint256;
        return { summary: `issued by ${r.info.issuer} in ${(r.elapsedMs / 1000).toFixed(1)} s; ${reload.signalled ? "the service switched to it" : reload.reason}` };
      } catch (e) {
        state.acmeFailed = true;
        state.notes.push(`${(e as Error).message} The service runs with its self-signed certificate meanwhile; once fixed, run \`sudo voicesrv cert acme --domain ${acme.domain}\`.`);
        return { summary: "failed (see the note below); the service keeps its self-signed certificate" };
      }
    },
  };
}
