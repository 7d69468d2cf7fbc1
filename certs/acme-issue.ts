// Obtains a publicly trusted certificate through ACME (RFC 8555) with the HTTP-01 challenge.
// The protocol (JWS signing, nonces, polling) is acme-client's; this file only chooses the keys,
// wires the challenge to a publisher the caller owns, and turns the CA's problem documents into
// sentences an operator can act on. Decisions:
// - The account key is ECDSA P-256 and is the caller's to keep (and reuse): ACME identifies the
//   account by its key, and reusing it keeps issuance within the CA's per-account rate limits.
// - Each certificate gets a fresh P-256 key: a renewal never reuses the previous private key.
// - acme-client's own pre-check of the challenge (skipChallengeVerification: false) fetches the
//   token through the public name from this box; behind a home router without hairpin NAT that
//   fails although the CA would succeed, so the caller checks its own listener locally instead.
// - A private directory CA (--directory-ca, for a test CA such as pebble) replaces the trusted
//   roots for the directory connection only; certificate verification is never turned off.
import https from "node:https";
// Loaded on first use: acme-client (with axios and node-forge) takes a noticeable share of CLI
// start-up, and only `cert acme|renew` need it. A literal specifier, so the compiled binary embeds it.
const loadAcme = () => import("acme-client");
import { exportPrivateKeyPem, generateServerKeyPair } from "./keys.ts";
import { isValidDnsName } from "./leaf-profile.ts";

export const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";

export interface AcmeOrder {
  domain: string;
  email?: string;
  directoryUrl: string;
  /** PEM of the CA that signs the directory's own TLS certificate, when it is not publicly trusted. */
  directoryCaPem?: string;
  accountKeyPem: string;
  /** Known from an earlier run: skips the account lookup. */
  accountUrl?: string;
  /** Port the CA connects to for HTTP-01 (80 on the internet); only used to word errors. */
  challengePort: number;
  /** Makes `keyAuthorization` the body of http://domain/.well-known/acme-challenge/<token>. */
  publish(token: string, keyAuthorization: string): Promise<void>;
  unpublish(token: string): Promise<void>;
}

export interface AcmeCertificate {
  certPem: string;
  keyPem: string;
  accountUrl: string;
}

/** Why an ACME attempt failed, as one sentence; `retryable` is false for mistakes a retry cannot fix. */
export class AcmeError extends Error {
  constructor(message: string, readonly retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AcmeError";
  }
}

export async function createAccountKeyPem(): Promise<string> {
  return (await exportPrivateKeyPem((await generateServerKeyPair()).privateKey)) + "\n";
}

export function checkAcmeDomain(domain: string): string {
  const d = domain.trim().toLowerCase().replace(/\.$/, "");
  if (!isValidDnsName(d) || d.startsWith("*.")) throw new AcmeError(`"${domain}" is not a domain name a CA can validate over HTTP (no wildcards, no IP addresses)`, false);
  return d;
}

/**
 * One quick look at the directory before the order: acme-client retries network errors for over a
 * minute (right for a CA that is briefly down, with Retry-After honoured) and then fails with an
 * internal TypeError, so an unreachable or mistyped directory is reported here instead, at once.
 */
async function checkDirectory(url: string, caPem: string | undefined): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { tls: caPem ? { ca: caPem } : undefined, signal: AbortSignal.timeout(20_000) } as RequestInit);
  } catch (e) {
    throw new AcmeError(`cannot reach the ACME directory ${url}: ${(e as Error).message}`, true, { cause: e });
  }
  if (!res.ok) throw new AcmeError(`the ACME directory ${url} answered HTTP ${res.status}`, res.status >= 500 || res.status === 429);
  const body = (await res.json().catch(() => null)) as { newOrder?: unknown } | null;
  if (!body || typeof body.newOrder !== "string") throw new AcmeError(`${url} is not an ACME directory (no newOrder in its answer)`, false);
}

export async function obtainAcmeCertificate(order: AcmeOrder): Promise<AcmeCertificate> {
  const domain = checkAcmeDomain(order.domain);
  await checkDirectory(order.directoryUrl, order.directoryCaPem);
  const acme = await loadAcme();
  // acme-client talks through its own axios instance; the agent decides which roots it trusts.
  acme.axios.defaults.httpsAgent = order.directoryCaPem ? new https.Agent({ ca: order.directoryCaPem, rejectUnauthorized: true }) : undefined;
  const client = new acme.Client({
    directoryUrl: order.directoryUrl,
    accountKey: order.accountKeyPem,
    accountUrl: order.accountUrl,
    // Polling an order's status: a few attempts a few seconds apart stay well inside rate limits.
    backoffAttempts: 8,
    backoffMin: 1000,
    backoffMax: 10_000,
  });
  const keyPem = (await exportPrivateKeyPem((await generateServerKeyPair()).privateKey)) + "\n";
  const [, csr] = await acme.crypto.createCsr({ commonName: domain, altNames: [domain] }, keyPem);
  try {
    const certPem = await client.auto({
      csr,
      email: order.email,
      termsOfServiceAgreed: true,
      challengePriority: ["http-01"],
      skipChallengeVerification: true,
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
        if (challenge.type !== "http-01") throw new AcmeError(`the CA offered only ${challenge.type}, but voicesrv answers http-01`, false);
        await order.publish(challenge.token, keyAuthorization);
      },
      challengeRemoveFn: async (_authz, challenge) => {
        if (challenge.type === "http-01") await order.unpublish(challenge.token);
      },
    });
    return { certPem: certPem.trim() + "\n", keyPem, accountUrl: client.getAccountUrl() };
  } catch (e) {
    throw explain(e, domain, order);
  }
}

/** The CA's problem detail, reworded by what the operator has to fix. */
function explain(e: unknown, domain: string, order: AcmeOrder): AcmeError {
  if (e instanceof AcmeError) return e;
  const err = e as Error & { response?: { status?: number } };
  const detail = (err.message || String(e)).replace(/\s+/g, " ").trim();
  const port = order.challengePort;
  // An HTTP-level failure talking to the directory itself (no answer at all, or its TLS refused).
  // acme-client's retry interceptor ends with this TypeError once a connection kept failing.
  if (((err as { isAxiosError?: boolean }).isAxiosError && !err.response) || /response\.config/.test(detail)) {
    return new AcmeError(`cannot reach the ACME directory ${order.directoryUrl}: ${detail}`, true, { cause: e });
  }
  if (/no such host|NXDOMAIN|SERVFAIL|resolving|DNS problem|no valid A records/i.test(detail)) {
    return new AcmeError(`${domain} does not resolve to this box's public address (check its DNS A record, or your dynamic DNS): ${detail}`, true, { cause: e });
  }
  if (/connection refused|timeout|timed out|i\/o timeout|no route to host|network is unreachable|connect:|Connection reset|Fetching/i.test(detail)) {
    return new AcmeError(`port ${port} is not reachable from the internet: ${detail} (forward TCP port ${port} on your router to this box and open it in the firewall)`, true, { cause: e });
  }
  if (/unauthorized|Invalid response|key authorization|404/i.test(detail)) {
    return new AcmeError(`the CA reached ${domain} on port ${port} but not voicesrv's answer (another web server or router page answers there?): ${detail}`, true, { cause: e });
  }
  if (/rateLimited|too many/i.test(detail)) {
    return new AcmeError(`the CA's rate limit was hit; voicesrv retries later by itself: ${detail}`, true, { cause: e });
  }
  if (/rejectedIdentifier|policy forbids|not a valid|invalid identifier|malformed/i.test(detail)) {
    return new AcmeError(`the CA refuses to issue for ${domain}: ${detail}`, false, { cause: e });
  }
  return new AcmeError(`the ACME request for ${domain} failed: ${detail}`, true, { cause: e });
}
