// The VAPID `sub` claim (RFC 8292 §2.1): how a push service's operator can reach this server's
// operator — a mailto: address or an https: URL. Apple's service refuses the token (403
// BadJwtToken) when the subject names localhost, so such a subject is refused here with the
// reason instead of failing every push later.
//
// Where it comes from, first match wins:
//   1. the config's `pushSubject` ("mailto:you@example.org", "https://voice.example.org", or a bare
//      e-mail address, which gets "mailto:"); set but unusable is an error, not a fall-through
//   2. the e-mail address given to `voicesrv cert acme --email`
//   3. the domain given to `voicesrv cert acme --domain`, as https://<domain>
// A box on a LAN with a self-signed certificate has none of these: push then stays off until
// the operator sets pushSubject, and `vapidSubject` says so.
import { isIP } from "node:net";

export interface SubjectSources {
  pushSubject?: string;
  acmeEmail?: string;
  acmeDomain?: string;
}

export type SubjectResult = { ok: true; subject: string; source: "pushSubject" | "ACME e-mail" | "ACME domain" } | { ok: false; reason: string };

const LOCAL_ONLY = ["localhost", "localdomain", "local", "lan", "home", "internal", "intranet", "corp", "private", "home.arpa", "test", "invalid", "example"];
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** null if `host` is a public-looking DNS name, else why not. */
function hostProblem(host: string): string | null {
  const h = host.toLowerCase();
  if (isIP(h) || h.startsWith("[")) return `${host} is an IP address; push services want a name they can reach you by`;
  if (LOCAL_ONLY.some((s) => h === s || h.endsWith("." + s))) return `${host} is a local name (Apple's push service refuses localhost and local subjects)`;
  const labels = h.split(".");
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return `${host} is not a public DNS name such as example.org`;
  return null;
}

/** The normalised subject, or why `value` cannot be one. */
export function parseSubject(value: string): { ok: true; subject: string } | { ok: false; reason: string } {
  const v = value.trim();
  if (v.length === 0 || v.length > 256) return { ok: false, reason: "the push subject must be a mailto: address or an https: URL (at most 256 characters)" };
  if (/^https:/i.test(v)) {
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      return { ok: false, reason: `${v} is not a URL` };
    }
    if (url.username || url.password) return { ok: false, reason: "the push subject URL must not carry a user name or password" };
    const problem = hostProblem(url.hostname);
    if (problem) return { ok: false, reason: problem };
    return { ok: true, subject: url.pathname === "/" && !url.search && !url.hash ? url.origin : url.href };
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(v) && !/^mailto:/i.test(v)) return { ok: false, reason: `the push subject must be a mailto: address or an https: URL, not ${v.split(":")[0]}:` };
  const address = v.replace(/^mailto:/i, "");
  const m = address.match(/^([^\s@?&#/:]+)@([^\s@?&#/:]+)$/);
  if (!m) return { ok: false, reason: `${v} is not an e-mail address such as mailto:you@example.org` };
  const problem = hostProblem(m[2]!);
  if (problem) return { ok: false, reason: problem };
  return { ok: true, subject: `mailto:${address}` };
}

export function vapidSubject(src: SubjectSources): SubjectResult {
  if (src.pushSubject !== undefined && src.pushSubject !== "") {
    const r = parseSubject(src.pushSubject);
    return r.ok ? { ...r, source: "pushSubject" } : { ok: false, reason: `pushSubject: ${r.reason}` };
  }
  if (src.acmeEmail) {
    const r = parseSubject(src.acmeEmail);
    if (r.ok) return { ...r, source: "ACME e-mail" };
  }
  if (src.acmeDomain) {
    const r = parseSubject(`https://${src.acmeDomain}`);
    if (r.ok) return { ...r, source: "ACME domain" };
  }
  return {
    ok: false,
    reason: "no contact address for the push services: set pushSubject to mailto:you@example.org or https://your.domain (they must be able to reach the operator; localhost is refused)",
  };
}
