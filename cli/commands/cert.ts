import { type Command } from "commander";
import { CliError } from "../cli-error.ts";
import { readAcmeSettings } from "../../certs/acme-state.ts";
import { nextAcmeRenewal, obtainAcme } from "../ops/acme-ops.ts";
import { readInstalled, importCertificate, namesFromFlags, renewCertificate, switchToPrivateCA } from "../ops/cert-ops.ts";
import { addConfigFlags, configFor, type ConfigFlags } from "../ops/config-flags.ts";
import { INSTALL_PATHS } from "../ops/install-paths.ts";
import { color, printJson } from "../ops/output.ts";
import { signalReload, type ReloadOutcome } from "../ops/reload-signal.ts";
import { createRunner } from "../ops/runner.ts";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CA_CERT_FILE, CA_DIR, inspectCertificate, type CertInfo } from "../../certs/index.ts";

interface CertFlags extends ConfigFlags {
  json?: boolean;
  days?: string;
  hostname?: string;
  san?: string[];
  ifExpiringWithin?: string;
  selfSigned?: boolean;
  reload?: boolean;
  cert?: string;
  key?: string;
  domain?: string;
  email?: string;
  directory?: string;
  directoryCa?: string;
  challengePort?: string;
}

function wholeNumber(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new CliError(`${name} must be a whole number of at least ${min}, got "${v}"`, 2);
  return Number(v);
}

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, ...v.split(",").map((s) => s.trim()).filter(Boolean)];
}

export function certJson(info: CertInfo) {
  return { ...info, notBefore: info.notBefore.toISOString(), notAfter: info.notAfter.toISOString() };
}

export function describeCert(info: CertInfo, kind: string, renewal?: string): string[] {
  const days = info.daysLeft < 0 ? color.bad(`expired ${-info.daysLeft} days ago`) : info.daysLeft <= 14 ? color.warn(`${info.daysLeft} days left`) : `${info.daysLeft} days left`;
  return [
    `subject      ${info.subject}`,
    `issuer       ${info.issuer}${kind ? ` (${kind})` : ""}`,
    `names        ${[...info.sans.dns, ...info.sans.ip].join(", ") || "(none)"}`,
    `valid until  ${info.notAfter.toISOString()} — ${days}`,
    ...(renewal ? [`renewal      ${renewal}`] : []),
    `SHA-256      ${info.fingerprint256}`,
  ];
}

/** Days before expiry the timer renews (systemd/voicesrv-cert-renew.service passes the same). */
export const TIMER_RENEW_DAYS = 30;

/** When (and how) the renewal timer will next replace this certificate, for `cert show` and `status`. */
export async function renewalPlan(certDir: string, info: CertInfo, kind: string): Promise<{ next: string | null; text: string; lastError?: string }> {
  if (kind === "imported" || kind === "external") return { next: null, text: "not renewed by voicesrv (imported): renew it where it came from" };
  if (kind === "acme") {
    const settings = await readAcmeSettings(certDir);
    const next = nextAcmeRenewal(info, settings, TIMER_RENEW_DAYS);
    const failed = settings?.failures ? `; last attempt failed (${settings.failures}x): ${settings.lastError}` : "";
    return { next: next.toISOString(), text: `by ACME from ${settings?.directoryUrl ?? "its CA"}, next attempt after ${next.toISOString()}${failed}`, lastError: settings?.failures ? settings.lastError : undefined };
  }
  const next = new Date(info.notAfter.getTime() - TIMER_RENEW_DAYS * 86_400_000);
  return { next: next.toISOString(), text: `by the timer from ${next.toISOString()} (${kind === "ca" ? "issued again from the private CA" : "a new self-signed certificate"})` };
}

/** The managed certificate directory; refuses for --cert/--key files owned by someone else. */
function managedDir(flags: CertFlags): { certDir: string; dataDir: string } {
  const c = configFor(flags);
  if (!c.managed) {
    throw new CliError(`the server uses ${c.certFile} from its config (--cert/--key), which voicesrv does not manage: replace that file, then run \`voicesrv reload\``, 2);
  }
  return { certDir: c.certDir, dataDir: c.dataDir };
}

async function reload(flags: CertFlags, dataDir: string): Promise<ReloadOutcome | null> {
  if (flags.reload === false) return null;
  return signalReload(createRunner("live"), dataDir);
}

function reloadLine(r: ReloadOutcome | null): string {
  if (!r) return "not reloaded (--no-reload): run `voicesrv reload` when ready";
  return r.signalled ? `sent SIGHUP to voicesrv (PID ${r.pid}, via ${r.via}): it now serves the new certificate; calls stay up` : r.reason;
}

const commonHelp = (example: string) => `\nExample:\n  ${example}`;

export function registerCert(program: Command): void {
  const cert = program
    .command("cert")
    .description("show, renew or import the TLS certificate, or switch to a private CA")
    .addHelpText("after", commonHelp("sudo voicesrv cert show"));

  addConfigFlags(
    cert
      .command("show")
      .description("print the installed certificate: names, expiry, SHA-256 fingerprint")
      .option("--json", "print JSON")
      .addHelpText("after", commonHelp("voicesrv cert show --data-dir ./data --json")),
  ).action(async (flags: CertFlags) => {
    const c = configFor(flags);
    const installed = c.managed ? await readInstalled(c.certDir) : await readExplicit(c.certFile);
    if (!installed) throw new CliError(`no certificate at ${c.certFile}: one is generated when the server first starts (or run \`voicesrv cert renew\`)`, 1);
    const plan = await renewalPlan(c.certDir, installed.info, c.managed ? installed.kind : "external");
    // In private-CA mode the CA's fingerprint is what each phone compares before trusting it.
    const caPem = c.managed && installed.kind === "ca" ? await readFile(join(c.certDir, CA_DIR, CA_CERT_FILE), "utf8").catch(() => null) : null;
    const ca = caPem ? inspectCertificate(caPem) : null;
    if (flags.json) return printJson({ file: c.certFile, kind: installed.kind, ...certJson(installed.info), nextRenewal: plan.next, renewal: plan.text, ca: ca ? { subject: ca.subject, fingerprint256: ca.fingerprint256, notAfter: ca.notAfter.toISOString() } : undefined });
    console.log(`file         ${c.certFile}`);
    for (const l of describeCert(installed.info, installed.kind, plan.text)) console.log(l);
    if (ca) {
      console.log(`CA           ${ca.subject}`);
      console.log(`CA SHA-256   ${ca.fingerprint256}   (compare on each phone before trusting it)`);
    }
  });

  addConfigFlags(
    cert
      .command("renew")
      .description("issue a fresh certificate (self-signed, or from the private CA) and switch the running server to it")
      .option("--days <n>", "validity in days (at most 397)")
      .option("--hostname <name>", "main name (becomes the subject), added to this machine's own names")
      .option("--san <name>", "extra DNS name or IP address, added to this machine's names and addresses (remembered for renewals; give --san again to change the list); repeat or separate with commas", collect)
      .option("--if-expiring-within <days>", "only renew when at most this many days are left (used by the timer)")
      .option("--self-signed", "replace an imported certificate with a self-signed one")
      .option("--no-reload", "write the files but do not signal the running server")
      .option("--json", "print JSON")
      .addHelpText("after", commonHelp("sudo voicesrv cert renew --hostname voice.example.lan --san 192.168.1.20")),
    { port: true },
  ).action(async (flags: CertFlags) => {
    const { certDir, dataDir } = managedDir(flags);
    const c = configFor(flags);
    const result = await renewCertificate(certDir, {
      days: wholeNumber("--days", flags.days, 1),
      names: namesFromFlags(flags.hostname, flags.san ?? []),
      ifExpiringWithin: wholeNumber("--if-expiring-within", flags.ifExpiringWithin, 0),
      selfSigned: flags.selfSigned,
      host: c.host,
      httpsPort: c.port,
    });
    const r = result.renewed ? await reload(flags, dataDir) : null;
    if (flags.json) return printJson({ ...result, info: certJson(result.info), previous: result.renewed && result.previous ? certJson(result.previous) : undefined, reload: r });
    if (!result.renewed) return console.log(`not renewed: ${result.reason}`);
    console.log(color.ok(`renewed the ${result.kind} certificate`));
    for (const l of describeCert(result.info, result.kind)) console.log(l);
    console.log(reloadLine(r));
    if (result.kind === "self-signed") console.log("phones that trusted the old certificate must accept the new fingerprint once (docs/PHONE-TRUST.md, or use `voicesrv cert ca`)");
  });

  addConfigFlags(
    cert
      .command("import")
      .description("use a certificate from elsewhere (e.g. certbot): checked against its key before the server switches")
      .requiredOption("--cert <file>", "certificate PEM, leaf first (fullchain.pem)")
      .requiredOption("--key <file>", "its private key PEM (privkey.pem)")
      .option("--no-reload", "write the files but do not signal the running server")
      .option("--json", "print JSON")
      .addHelpText("after", commonHelp("sudo voicesrv cert import --cert /etc/letsencrypt/live/voice.example.com/fullchain.pem --key /etc/letsencrypt/live/voice.example.com/privkey.pem")),
  ).action(async (flags: CertFlags) => {
    const { certDir, dataDir } = managedDir(flags);
    const info = await importCertificate(certDir, flags.cert!, flags.key!);
    const r = await reload(flags, dataDir);
    if (flags.json) return printJson({ imported: true, info: certJson(info), reload: r });
    console.log(color.ok("imported the certificate"));
    for (const l of describeCert(info, "imported")) console.log(l);
    console.log(reloadLine(r));
    console.log("the renewal timer leaves imported certificates alone: import the renewed one before it expires");
  });

  addConfigFlags(
    cert
      .command("ca")
      .description("private-CA mode: create a local CA (its key never leaves this machine) and issue the server certificate from it")
      .option("--days <n>", "server certificate validity in days (at most 397)")
      .option("--hostname <name>", "main name for the server certificate, added to this machine's own names")
      .option("--san <name>", "extra DNS name or IP address, added to this machine's names and addresses; repeat or separate with commas", collect)
      .option("--no-reload", "write the files but do not signal the running server")
      .option("--json", "print JSON")
      .addHelpText("after", commonHelp("sudo voicesrv cert ca --san 192.168.1.20\n  then on each phone open https://<host>:22000/ca.pem and trust it (docs/PHONE-TRUST.md)")),
  ).action(async (flags: CertFlags) => {
    const { certDir, dataDir } = managedDir(flags);
    const result = await switchToPrivateCA(certDir, { days: wholeNumber("--days", flags.days, 1), names: namesFromFlags(flags.hostname, flags.san ?? []) });
    const r = await reload(flags, dataDir);
    if (flags.json) return printJson({ ca: certJson(result.ca), caCreated: result.caCreated, info: certJson(result.info), reload: r });
    console.log(color.ok(result.caCreated ? "created a private CA and issued the server certificate from it" : "issued a new server certificate from the existing private CA"));
    console.log(`CA           ${result.ca.subject}`);
    console.log(`CA SHA-256   ${result.ca.fingerprint256}`);
    for (const l of describeCert(result.info, "ca")) console.log(l);
    console.log(reloadLine(r));
    console.log("next: on each device open https://<this host>:<port>/ca.pem, install and trust it (docs/PHONE-TRUST.md); compare the CA SHA-256 above");
  });

  addConfigFlags(
    cert
      .command("acme")
      .description("get a publicly trusted certificate for a domain through ACME (Let's Encrypt by default): phones need no trust steps")
      .requiredOption("--domain <name>", "the public DNS name that points at this box (e.g. voice.example.org)")
      .option("--email <address>", "contact address the CA may write to about expiry or problems")
      .option("--directory <url>", "ACME directory URL of another CA (default: Let's Encrypt)")
      .option("--directory-ca <file>", "PEM CA certificate the directory's HTTPS chains to (a private or test CA)")
      .option("--challenge-port <n>", "port the HTTP-01 challenge is answered on (default 80: CAs connect there)")
      .option("--no-reload", "write the files but do not signal the running server")
      .option("--json", "print JSON")
      .addHelpText("after", commonHelp("sudo voicesrv cert acme --domain voice.example.org --email you@example.org\n  needs: the domain's DNS A record points at this box, and TCP port 80 reaches it from the internet")),
    { port: true },
  ).action(async (flags: CertFlags) => {
    const { certDir, dataDir } = managedDir(flags);
    const c = configFor(flags);
    const previous = await readInstalled(certDir);
    const result = await obtainAcme(
      certDir,
      {
        domain: flags.domain,
        email: flags.email,
        directoryUrl: flags.directory,
        directoryCa: flags.directoryCa,
        challengePort: flags.challengePort === undefined ? undefined : wholeNumber("--challenge-port", flags.challengePort, 1),
        host: c.host,
        httpsPort: c.port,
      },
      previous?.info ?? null,
    );
    const r = await reload(flags, dataDir);
    const plan = await renewalPlan(certDir, result.info, "acme");
    if (flags.json) return printJson({ obtained: true, domain: result.settings.domain, accountUrl: result.accountUrl, accountCreated: result.accountCreated, elapsedMs: result.elapsedMs, info: certJson(result.info), nextRenewal: plan.next, reload: r });
    console.log(color.ok(`obtained a certificate for ${result.settings.domain} from ${result.settings.directoryUrl} in ${(result.elapsedMs / 1000).toFixed(1)} s`));
    for (const l of describeCert(result.info, "acme", plan.text)) console.log(l);
    console.log(reloadLine(r));
    console.log(`phones open https://${result.settings.domain}${c.port === 443 ? "" : `:${c.port}`}/<group> with no trust steps; the renewal timer renews it`);
    // Units from an install without --domain: no port 80 for the service, no network for renewals.
    const renewUnit = c.dataDir === INSTALL_PATHS.stateDir ? await readFile(INSTALL_PATHS.renewService, "utf8").catch(() => null) : null;
    if (renewUnit?.includes("PrivateNetwork=yes")) {
      console.log(color.warn("note: re-run `sudo voicesrv install` once: the installed units keep the renewal timer off the network and the service off port 80, so ACME renewals would fail"));
    }
  });
}

/** A certificate named by --cert in the config: shown, never managed. */
async function readExplicit(file: string) {
  try {
    const pem = await readFile(file, "utf8");
    return { info: inspectCertificate(pem), kind: "external", certPem: pem };
  } catch {
    return null;
  }
}
