// Starts and stops one voicesrv server: instance lock, TLS material, hub, HTTP app, listener.
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Server } from "bun";
import { acmePaths, readAcmeSettingsSync } from "../certs/acme-state.ts";
import { inspectCertificate } from "../certs/inspect.ts";
import { ensureCertificate } from "../certs/store.ts";
import { startChallengeListener } from "./challenge-listener.ts";
import { certPaths, type ServerConfig } from "./config.ts";
import { createHttpApp } from "./http-app.ts";
import { Hub } from "./hub.ts";
import { lockDataDir } from "./instance-lock.ts";
import { listen, type Handlers, type Tls } from "./listener.ts";
import type { Logger } from "./logger.ts";
import { renderMetrics } from "./metrics.ts";
import { portInUse } from "./port-check.ts";
import { setUpPush, type PushOff, type PushSetup } from "./push-setup.ts";
import type { PushTransport } from "./push/index.ts";
import { openRoster } from "./roster/open-roster.ts";
import type { RosterStore } from "./roster/roster-store.ts";
import { VERSION } from "./version.ts";

export interface RunningServer {
  readonly hub: Hub;
  /** Web Push (issue #9): set up, or off and why. */
  readonly push: PushSetup | PushOff;
  readonly roster: RosterStore;
  readonly port: number;
  readonly url: string;
  readonly secure: boolean;
  /**
   * Re-reads the certificate files and swaps listeners without dropping connections. Never
   * creates or changes a file: when the files are missing or unusable it throws, and the
   * current certificate stays in service.
   */
  reloadCertificate(): Promise<void>;
  /** Tells clients, closes everything; resolves when the listener is down (≤ timeoutMs). */
  stop(timeoutMs?: number): Promise<void>;
}

export class StartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartError";
  }
}

/**
 * The certificate and key to serve. `generate` (start-up only) creates a self-signed pair in a
 * managed data directory that has none; a reload never does — it would overwrite an operator's
 * imported key whose certificate file went missing (issue #13).
 */
export async function loadTls(config: ServerConfig, log: Logger, opts: { generate: boolean } = { generate: true }): Promise<Tls | null> {
  if (config.http) return null;
  const paths = certPaths(config);
  if (paths.managed && opts.generate) {
    const dir = dirname(paths.certFile);
    let r;
    try {
      r = await ensureCertificate(dir);
    } catch (e) {
      // writeFileAtomic names the file; ENOSPC and EACCES say nothing else useful.
      throw new StartError(`cannot create the self-signed certificate in ${dir}: ${(e as Error).message}`);
    }
    if (r.generated) log.info("generated a self-signed certificate", { dir });
  }
  const read = async (file: string, what: string) => {
    try {
      return await readFile(file, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new StartError(code === "ENOENT" ? `the TLS ${what} ${file} is missing` : `cannot read the TLS ${what} ${file}: ${(e as Error).message}`);
    }
  };
  return { cert: await read(paths.certFile, "certificate"), key: await read(paths.keyFile, "key") };
}

function notAfterMs(tls: Tls | null): number | null {
  if (!tls) return null;
  try {
    return inspectCertificate(tls.cert).notAfter.getTime();
  } catch {
    return null;
  }
}

/** Test seams that config files cannot reach. */
export interface StartOptions {
  /** A push-service stand-in's CA and resolver (test/helpers/push-service.ts). */
  pushTransport?: PushTransport;
}

export async function startServer(config: ServerConfig, log: Logger, opts: StartOptions = {}): Promise<RunningServer> {
  // The lock comes before the port probe: of two servers started at the same instant, the
  // second stops here instead of both passing the probe and sharing the port (reusePort).
  const lock = await lockDataDir(config.dataDir);
  if (lock.kind === "held") {
    throw new StartError(`another voicesrv is already running with the data directory ${config.dataDir} (it holds ${lock.path}) — voicesrv status`);
  }
  if (lock.kind === "unavailable") log.warn(`cannot lock ${lock.path} (${lock.reason}): a second server started at the same moment would not be refused`);
  const release = () => lock.kind === "locked" && lock.release();
  try {
    return await startLocked(config, log, release, opts);
  } catch (e) {
    release();
    throw e;
  }
}

async function startLocked(config: ServerConfig, log: Logger, release: () => void, opts: StartOptions): Promise<RunningServer> {
  if (config.port !== 0 && (await portInUse(config.host, config.port))) {
    throw new StartError(`port ${config.port} is already in use — is voicesrv already running? (voicesrv status)`);
  }
  let tls = await loadTls(config, log);
  const startedAtMs = Date.now();
  let roster: RosterStore;
  try {
    roster = openRoster(config.dataDir);
  } catch (e) {
    throw new StartError((e as Error).message);
  }
  let push: PushSetup | PushOff;
  try {
    push = await setUpPush(config, log, opts.pushTransport);
  } catch (e) {
    roster.close();
    throw new StartError(`cannot set up Web Push: ${(e as Error).message}`);
  }
  if ("off" in push) log.info(`ringing closed apps (Web Push) is off: ${push.reason}`);
  else log.info(`ringing closed apps (Web Push) is on, contact ${push.subject}`);
  const hub = new Hub({ limits: config.limits, log, version: VERSION, roster, groupPolicy: config.groups, ...("off" in push ? {} : { push }) });
  const watch = watchRoster(roster, hub, log);
  const app = createHttpApp(VERSION, join(config.dataDir, "certs", "ca", "ca.pem"), (g, c, d, sig) => hub.declineByPush(g, c, d, sig));
  const handlers: Handlers = {
    http: (req) => app.handle(req),
    metrics: () =>
      renderMetrics({
        version: VERSION,
        startedAtMs,
        nowMs: Date.now(),
        counts: hub.counts(),
        media: hub.media,
        kxRelayed: hub.calls.kxRelayed,
        certificateNotAfterMs: notAfterMs(tls),
        push: "off" in push ? null : { ...push.sender.stats(), subscriptions: roster.pushSubscriptionCount() },
      }),
  };
  let server: Server<unknown>;
  try {
    server = listen(config, tls, hub, handlers, log) as Server<unknown>;
  } catch (e) {
    watch.stop();
    roster.close();
    throw new StartError(`cannot listen on ${config.host}:${config.port}: ${(e as Error).message}`);
  }
  const port = server.port!;
  const scheme = tls ? "https" : "http";
  const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `${scheme}://${shownHost}:${port}`;
  // Tests and scripts wait for "listening on <url>": the URL stays in the event text.
  log.info(`voicesrv ${VERSION} listening on ${scheme}://${config.host}:${port}`, { version: VERSION, port });

  // With an ACME certificate (voicesrv cert acme), the server also holds the HTTP-01 port so the
  // renewal timer finds its challenge answered; a failure to bind costs renewals, never calls.
  let challenge: Server<unknown> | null = null;
  const ensureChallengeListener = () => {
    const paths = certPaths(config);
    if (challenge || !tls || !paths.managed) return;
    const certDir = dirname(paths.certFile);
    const acme = readAcmeSettingsSync(certDir);
    if (!acme) return;
    try {
      challenge = startChallengeListener({ host: config.host, port: acme.challengePort, challengeDir: acmePaths(certDir).challenges, httpsPort: port });
      log.info(`answering ACME challenges for ${acme.domain} on http://${config.host}:${challenge.port} (everything else redirects to https)`);
    } catch (e) {
      log.warn(`cannot listen on port ${acme.challengePort} for ACME renewals of ${acme.domain}: ${(e as Error).message}`);
    }
  };
  ensureChallengeListener();

  let stopping: Promise<void> | null = null;
  return {
    hub,
    push,
    roster,
    port,
    url,
    secure: tls !== null,
    async reloadCertificate() {
      if (!tls) throw new StartError("plain HTTP mode has no certificate to reload");
      const next = await loadTls(config, log, { generate: false });
      // server.reload({ tls }) keeps the old certificate (DESIGN.md), so a second listener takes
      // new connections on the same port while the old one keeps serving the ones it has.
      let fresh: Server<unknown>;
      try {
        fresh = listen(config, next, hub, handlers, log, port) as Server<unknown>;
      } catch (e) {
        throw new StartError(`the new certificate or key cannot be used: ${(e as Error).message}`);
      }
      const old = server;
      server = fresh;
      tls = next;
      old.stop(false);
      log.info("certificate reloaded");
      ensureChallengeListener();
    },
    stop(timeoutMs = 5000) {
      stopping ??= (async () => {
        hub.shutdown();
        const done = server.stop(false);
        const timer = new Promise<void>((r) => setTimeout(r, timeoutMs).unref?.());
        await Promise.race([done, timer]);
        server.stop(true);
        challenge?.stop(true);
        watch.stop();
        roster.close();
        release();
        log.info("stopped");
      })();
      return stopping;
    },
  };
}

/** How often the server looks for roster changes made by the CLI (a cheap PRAGMA read). */
const ROSTER_POLL_MS = 1000;
const PRUNE_EVERY_MS = 24 * 3600_000;

/**
 * The operator's CLI writes the same database while the server runs (group remove, delete);
 * SQLite's data_version changes when another connection commits, and the hub applies it.
 */
function watchRoster(roster: RosterStore, hub: Hub, log: Logger): { stop(): void } {
  const prune = () => {
    const n = hub.presence.prune();
    if (n > 0) log.info(`pruned ${n} members not seen for a long time`);
  };
  prune();
  let version = roster.externalVersion();
  const poll = setInterval(() => {
    const v = roster.externalVersion();
    if (v === version) return;
    version = v;
    hub.rosterChanged();
  }, ROSTER_POLL_MS);
  const pruner = setInterval(prune, PRUNE_EVERY_MS);
  poll.unref?.();
  pruner.unref?.();
  return {
    stop() {
      clearInterval(poll);
      clearInterval(pruner);
    },
  };
}
