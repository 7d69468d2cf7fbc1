// status, cert and doctor find the server the same way `serve` does (flags > VOICESRV_* env >
// config file > defaults), so they look at the same data directory and port it uses.
import type { Command } from "commander";
import { certPaths, type ServerConfig } from "../../server/config.ts";
import { effectiveConfig } from "../commands/serve.ts";

export interface ConfigFlags {
  config?: string;
  dataDir?: string;
  port?: string;
  host?: string;
}

export function addConfigFlags(cmd: Command, opts: { port?: boolean } = {}): Command {
  cmd.option("-c, --config <file>", "config file (default /etc/voicesrv/config.json if present)").option("-d, --data-dir <dir>", "the server's state directory (default as for serve)");
  if (opts.port) cmd.option("-p, --port <port>", "the server's port (default from the config)").option("-H, --host <address>", "the server's bind address (default from the config)");
  return cmd;
}

export function configFor(flags: ConfigFlags): ServerConfig & { certDir: string; certFile: string; keyFile: string; managed: boolean } {
  const config = effectiveConfig({ config: flags.config, dataDir: flags.dataDir, port: flags.port, host: flags.host });
  const paths = certPaths(config);
  return { ...config, certDir: `${config.dataDir}/certs`, certFile: paths.certFile, keyFile: paths.keyFile, managed: paths.managed };
}
