// The plain-HTTP listener (port 80) an ACME server validates HTTP-01 against. It serves exactly
// one thing, /.well-known/acme-challenge/<token>, from files `voicesrv cert acme|renew` writes into
// <dataDir>/certs/acme/challenges/, and redirects every other request to the HTTPS server.
// Decisions:
// - Files rather than shared memory: the renewal timer is a separate process (as the same user),
//   and the running server keeps port 80 so renewals never need it free.
// - Tokens are base64url (RFC 8555 §8.3); anything else is a 404 and never touches the disk.
// - The redirect keeps the requested host name (no open redirect: it only changes scheme and port).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Server } from "bun";

const CHALLENGE_PATH = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]{1,256})$/;

export interface ChallengeListenerOptions {
  host: string;
  port: number;
  /** Directory holding one file per pending token, its content the key authorization. */
  challengeDir: string;
  /** Where everything else is sent: the HTTPS port. */
  httpsPort: number;
}

export function challengeResponder(opts: Pick<ChallengeListenerOptions, "challengeDir" | "httpsPort">): (req: Request) => Promise<Response> {
  return async (req) => {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      // Bun builds req.url from the Host header: a malformed one makes it unparsable.
      return new Response("bad request\n", { status: 400 });
    }
    const m = CHALLENGE_PATH.exec(url.pathname);
    if (m) {
      if (req.method !== "GET" && req.method !== "HEAD") return new Response("method not allowed\n", { status: 405 });
      try {
        const body = await readFile(join(opts.challengeDir, m[1]!), "utf8");
        return new Response(body.trim(), { headers: { "content-type": "text/plain", "cache-control": "no-store" } });
      } catch {
        return new Response("no such challenge\n", { status: 404 });
      }
    }
    const host = hostOnly(req.headers.get("host"));
    if (!host) return new Response("missing Host header\n", { status: 400 });
    const port = opts.httpsPort === 443 ? "" : `:${opts.httpsPort}`;
    return new Response(null, { status: 301, headers: { location: `https://${host}${port}${url.pathname}${url.search}` } });
  };
}

/** The host part of a Host header ("[::1]:80" → "[::1]"), or null when it is not a plain name. */
function hostOnly(header: string | null): string | null {
  if (!header) return null;
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::\d+)?$/.exec(header.trim());
  return m ? m[1]!.toLowerCase() : null;
}

export function startChallengeListener(opts: ChallengeListenerOptions): Server<unknown> {
  return Bun.serve({ hostname: opts.host, port: opts.port, fetch: challengeResponder(opts) }) as Server<unknown>;
}
