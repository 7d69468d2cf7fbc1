// The addresses people can open, printed at the end of install and by status.
import { hostname, networkInterfaces } from "node:os";

export function reachableUrls(host: string, port: number, scheme = "https"): string[] {
  const wildcard = host === "0.0.0.0" || host === "::";
  if (!wildcard) return [`${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}`];
  const urls = [`${scheme}://${hostname()}:${port}`];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (!a.internal && a.family === "IPv4") urls.push(`${scheme}://${a.address}:${port}`);
    }
  }
  return urls;
}
