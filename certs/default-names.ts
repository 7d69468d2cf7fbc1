import os from "node:os";

export interface SubjectNames {
  hostnames: string[];
  ips: string[];
}

/**
 * Names a fresh install should answer to: loopback for the operator's own
 * browser, plus the machine's name for other devices on the LAN.
 */
export function defaultNames(hostname: string = os.hostname()): SubjectNames {
  const hostnames = ["localhost"];
  const own = hostname.trim().toLowerCase();
  if (own !== "" && own !== "localhost") hostnames.push(own);
  return { hostnames, ips: ["127.0.0.1", "::1"] };
}
