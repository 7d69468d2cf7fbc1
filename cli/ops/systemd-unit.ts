// Renders the unit templates in systemd/. Imported as text so `bun build --compile` embeds them
// in the binary (only the CLI imports this file; vitest runs the CLI as a subprocess).
import mainTemplate from "../../systemd/voicesrv.service" with { type: "text" };
import renewServiceTemplate from "../../systemd/voicesrv-cert-renew.service" with { type: "text" };
import renewTimerTemplate from "../../systemd/voicesrv-cert-renew.timer" with { type: "text" };
import { INSTALL_PATHS, SERVICE_USER } from "./install-paths.ts";

export interface UnitOptions {
  binary: string;
  config: string;
  stateDir: string;
  user: string;
  port: number;
  /** An ACME certificate: the server holds port 80 for challenges and the renewal reaches the CA. */
  acme?: boolean;
}

export function defaultUnitOptions(port: number): UnitOptions {
  return { binary: INSTALL_PATHS.binary, config: INSTALL_PATHS.configFile, stateDir: INSTALL_PATHS.stateDir, user: SERVICE_USER, port };
}

function fill(template: string, o: UnitOptions): string {
  // Ports below 1024 need CAP_NET_BIND_SERVICE, which a private user namespace would make
  // useless on the host's network; above it the service holds no capability at all.
  // The ACME challenge listener is on port 80, so an ACME install needs the capability too.
  const privileged = (o.port > 0 && o.port < 1024) || o.acme === true;
  const vars: Record<string, string> = {
    BINARY: o.binary,
    CONFIG: o.config,
    STATE_DIR: o.stateDir,
    USER: o.user,
    CAPABILITIES: privileged
      ? "CapabilityBoundingSet=CAP_NET_BIND_SERVICE\nAmbientCapabilities=CAP_NET_BIND_SERVICE"
      : "CapabilityBoundingSet=\nAmbientCapabilities=",
    // No PrivateNetwork for the renewal: a renewed certificate must name this box's LAN addresses
    // as they are today, and only the host's network namespace shows them (listing needs
    // AF_NETLINK). Without ACME it opens no network socket: AF_UNIX is for asking systemd
    // (D-Bus) for the server's MainPID.
    RENEW_NETWORK: o.acme
      ? "# Network allowed: ACME renewal talks to the CA over HTTPS; AF_NETLINK lists this box's addresses.\nRestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6"
      : "# No PrivateNetwork: the renewed certificate must name this box's current LAN addresses (AF_NETLINK lists them).\nRestrictAddressFamilies=AF_UNIX AF_NETLINK",
    PRIVATE_USERS: privileged ? "# PrivateUsers is off: it would void CAP_NET_BIND_SERVICE for a port below 1024." : "PrivateUsers=yes",
  };
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (whole, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`unit template has an unknown placeholder ${whole}`);
    return v;
  });
}

export function renderUnits(o: UnitOptions): { path: string; content: string }[] {
  return [
    { path: INSTALL_PATHS.unit, content: fill(mainTemplate, o) },
    { path: INSTALL_PATHS.renewService, content: fill(renewServiceTemplate, o) },
    { path: INSTALL_PATHS.renewTimer, content: fill(renewTimerTemplate, o) },
  ];
}
