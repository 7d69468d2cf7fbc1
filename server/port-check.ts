import { connect } from "node:net";

/**
 * reusePort (needed for the certificate swap) would let a second instance share the port
 * silently, so start-up asks first whether anything already answers there.
 */
export function portInUse(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  const target = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return new Promise((resolve) => {
    const s = connect({ host: target, port });
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}
