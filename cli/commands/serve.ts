import { type Command, Option } from "commander";
import { ConfigError, INSTALLED_CONFIG_FILE, type TrustProxy, configFromEnv, configFromFile, resolveConfig, type PartialConfig } from "../../server/config.ts";
import { StartError, startServer } from "../../server/index.ts";
import { createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "../../server/logger.ts";
import { CliError } from "../cli-error.ts";
import { readFile } from "node:fs/promises";
import { inspectCertificate, type CertInfo } from "../../certs/index.ts";
import { certPaths } from "../../server/config.ts";
import { dirname } from "node:path";
import { readCertKind } from "../ops/cert-kind.ts";
import { openUrls, uncoveredWarning } from "../ops/lan-urls.ts";
import { onReloadSignal } from "../early-signals.ts";
import { removePidFile, writePidFile } from "../ops/pid-file.ts";

interface ServeFlags {
  port?: string;
  host?: string;
  dataDir?: string;
  cert?: string;
  key?: string;
  config?: string;
  http?: boolean;
  trustProxy?: TrustProxy;
  printConfig?: boolean;
  quiet?: boolean;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new CliError(`--port must be a number from 0 to 65535, got "${v}"`, 2);
  return n;
}

export function flagsToConfig(f: ServeFlags): PartialConfig {
  return {
    port: f.port !== undefined ? parsePort(f.port) : undefined,
    host: f.host,
    dataDir: f.dataDir,
    certFile: f.cert,
    keyFile: f.key,
    http: f.http,
    trustProxy: f.trustProxy,
    logLevel: f.logLevel ?? (f.quiet ? "warn" : undefined),
    logFormat: f.logFormat,
  };
}

export function effectiveConfig(f: ServeFlags) {
  try {
    const file = configFromFile(f.config ?? process.env.VOICESRV_CONFIG ?? INSTALLED_CONFIG_FILE);
    return resolveConfig([file, configFromEnv(process.env), flagsToConfig(f)]);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message, 2);
    throw e;
  }
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run the server in the foreground (HTTPS + WSS on one port)")
    .option("-p, --port <port>", "port to listen on (default 22000)")
    .option("-H, --host <address>", "address to bind (default 0.0.0.0)")
    .option("-d, --data-dir <dir>", "state directory for the certificate (default ./data, or /var/lib/voicesrv when installed)")
    .option("--cert <file>", "TLS certificate (PEM, full chain) instead of the generated one")
    .option("--key <file>", "TLS private key (PEM) for --cert")
    .option("-c, --config <file>", `config file (default ${INSTALLED_CONFIG_FILE} if present)`)
    .addOption(new Option("--http", "plain HTTP/WS on loopback, for a TLS-terminating tunnel or proxy on this host"))
    .addOption(new Option("--trust-proxy <header>", "behind a proxy, take client addresses from its header").choices(["cloudflare", "x-forwarded-for"]))
    .option("--print-config", "print the effective configuration as JSON and exit")
    .addOption(new Option("--log-level <level>", "error, warn, info (default: connections accepted and refused, and why) or debug; env VOICESRV_LOG_LEVEL, config logLevel").choices(LOG_LEVELS))
    .addOption(new Option("--log-format <format>", "text lines or one JSON object a line; env VOICESRV_LOG_FORMAT, config logFormat").choices(LOG_FORMATS))
    .option("-q, --quiet", "same as --log-level warn")
    .addHelpText("after", "\nExample:\n  voicesrv serve --port 22000 --data-dir ./data\n  open https://localhost:22000/family")
    .action(async (flags: ServeFlags) => {
      const config = effectiveConfig(flags);
      if (flags.printConfig) {
        console.log(JSON.stringify(config, null, 2));
        return;
      }
      process.env.NODE_ENV ??= "production";
      const log = createLogger({ level: config.logLevel, format: config.logFormat });
      let server;
      try {
        server = await startServer(config, log);
      } catch (e) {
        if (e instanceof StartError) throw new CliError(e.message, 1);
        throw e;
      }
      // The PID file lets `voicesrv cert renew|import|ca` send SIGHUP to a server not run by
      // systemd (cli/ops/pid-file.ts); a read-only data dir only costs that convenience.
      try {
        writePidFile(config.dataDir);
      } catch (e) {
        log.warn("cannot write the PID file: cert renew will not reload this server by itself", { file: `${config.dataDir}/voicesrv.pid`, error: (e as Error).message });
      }
      const shutdown = (signal: string) => {
        log.info("shutting down", { signal });
        removePidFile(config.dataDir);
        server.stop(5000).then(() => process.exit(0));
      };
      process.once("SIGTERM", () => shutdown("SIGTERM"));
      process.once("SIGINT", () => shutdown("SIGINT"));
      onReloadSignal(() => {
        log.info("SIGHUP: reloading the certificate");
        server.reloadCertificate().catch((e) => log.error(`certificate reload failed, keeping the old one: ${(e as Error).message}`));
      });
      // Every address this server answers on that its certificate covers, and the fingerprint to
      // compare on a phone; addresses it misses are named in a warning, never offered as links.
      let cert: CertInfo | null = null;
      if (server.secure) {
        try {
          cert = inspectCertificate(await readFile(certPaths(config).certFile, "utf8"));
        } catch (e) {
          log.warn(`cannot read the certificate to list its names: ${(e as Error).message}`);
        }
      }
      const urls = openUrls(config.host, server.port, cert, server.secure ? "https" : "http");
      log.info(`open ${server.url}/<group> — for example ${server.url}/family`);
      for (const u of urls.covered) log.info(`reachable at ${u}/<group>`);
      const paths = certPaths(config);
      const warning = cert ? uncoveredWarning(urls, paths.managed ? readCertKind(dirname(paths.certFile), cert) : "external") : null;
      if (warning) log.warn(warning);
      if (cert) log.info(`certificate SHA-256 ${cert.fingerprint256} (${cert.issuer}; compare it on a phone when asked)`);
    });
}
