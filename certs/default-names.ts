import os from "node:os";
import { isValidDnsName } from "./leaf-profile.ts";

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
  // A hostname that cannot be a DNS SAN would stop the first start; loopback still works without it.
  if (own !== "" && own !== "localhost" && isValidDnsName(own)) hostnames.push(own);
  return { hostnames, ips: ["127.0.0.1", "::1"] };
}
