// Where an installed voicesrv lives. The config and state paths match server/config.ts, which
// the service reads them back from.
import { INSTALLED_CONFIG_FILE, INSTALLED_DATA_DIR } from "../../server/config.ts";

export const SERVICE_NAME = "voicesrv";
export const SERVICE_USER = "voicesrv";
export const RENEW_TIMER = "voicesrv-cert-renew.timer";

export const INSTALL_PATHS = {
  binary: "/usr/local/bin/voicesrv",
  stateDir: INSTALLED_DATA_DIR,
  certDir: `${INSTALLED_DATA_DIR}/certs`,
  configDir: "/etc/voicesrv",
  configFile: INSTALLED_CONFIG_FILE,
  unit: "/etc/systemd/system/voicesrv.service",
  renewService: "/etc/systemd/system/voicesrv-cert-renew.service",
  renewTimer: "/etc/systemd/system/voicesrv-cert-renew.timer",
} as const;

/** What uninstall removes; /var/lib/voicesrv and /etc/voicesrv only go with --purge. */
export const PROGRAM_FILES = [INSTALL_PATHS.unit, INSTALL_PATHS.renewService, INSTALL_PATHS.renewTimer, INSTALL_PATHS.binary];
export const DATA_PATHS = [INSTALL_PATHS.stateDir, INSTALL_PATHS.configDir];
