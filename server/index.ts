// Starts and stops one voicesrv server: TLS material, hub, HTTP app, listener.
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Server } from "bun";
import { acmePaths, readAcmeSettingsSync } from "../certs/acme-state.ts";
import { ensureCertificate } from "../certs/store.ts";
import { startChallengeListener } from "./challenge-listener.ts";
import { certPaths, type ServerConfig } from "./config.ts";
import { createHttpApp } from "./http-app.ts";
import { Hub } from "./hub.ts";
import { listen, type Tls } from "./listener.ts";
import type { Logger } from "./logger.ts";
import { portInUse } from "./port-check.ts";
import { openRoster } from "./roster/open-roster.ts";
import type { RosterStore } from "./roster/roster-store.ts";
import { VERSION } from "./version.ts";

export interface RunningServer {
  readonly hub: Hub;
  readonly roster: RosterStore;
  readonly port: number;
  readonly url: string;
  readonly secure: boolean;
  /** Re-reads the certificate files and swaps listeners without dropping connections. */
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

export async function loadTls(config: ServerConfig, log: Logger): Promise<Tls | null> {
  if (config.http) return null;
  const paths = certPaths(config);
  if (paths.managed) {
    const r = await ensureCertificate(dirname(paths.certFile));
    if (r.generated) log.info(`generated a self-signed certificate in ${dirname(paths.certFile)}`);
  }
  try {
    return { cert: await readFile(paths.certFile, "utf8"), key: await readFile(paths.keyFile, "utf8") };
  } catch (e) {
    throw new StartError(`cannot read the TLS certificate or key: ${(e as Error).message}`);
  }
}

export async function startServer(config: ServerConfig, log: Logger): Promise<RunningServer> {
  if (config.port !== 0 && (await portInUse(config.host, config.port))) {
    throw new StartError(`port ${config.port} is already in use — is voicesrv already running? (voicesrv status)`);
  }
  const tls = await loadTls(config, log);
  let roster: RosterStore;
  try {
    roster = openRoster(config.dataDir);
  } catch (e) {
    throw new StartError((e as Error).message);
  }
  const hub = new Hub({ limits: config.limits, log, version: VERSION, roster, groupPolicy: config.groups });
  const watch = watchRoster(roster, hub, log);
  const app = createHttpApp(hub, VERSION, Date.now(), join(config.dataDir, "certs", "ca", "ca.pem"));
  const http = (req: Request) => app.handle(req);
  let server: Server<unknown>;
  try {
    server = listen(config, tls, hub, http, log) as Server<unknown>;
  } catch (e) {
    watch.stop();
    roster.close();
    throw new StartError(`cannot listen on ${config.host}:${config.port}: ${(e as Error).message}`);
  }
  const port = server.port!;
  const scheme = tls ? "https" : "http";
  const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `${scheme}://${shownHost}:${port}`;
  log.info(`voicesrv ${VERSION} listening on ${scheme}://${config.host}:${port}`);

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
    roster,
    port,
    url,
    secure: tls !== null,
    async reloadCertificate() {
      if (!tls) throw new StartError("plain HTTP mode has no certificate to reload");
      const next = await loadTls(config, log);
      // server.reload({ tls }) keeps the old certificate (DESIGN.md), so a second listener takes
      // new connections on the same port while the old one keeps serving the ones it has.
      const fresh = listen(config, next, hub, http, log, port) as Server<unknown>;
      const old = server;
      server = fresh;
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
