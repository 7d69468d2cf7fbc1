// Web Push at start-up (issue #9): the VAPID key pair in the data directory, the contact subject,
// the SSRF-guarded sender (server/push) and the hub's view of them. Push stays off — and the
// app says "this server can't ring closed apps" — when no usable subject is configured, since
// push services refuse tokens without a reachable contact.
import { readAcmeSettingsSync } from "../certs/acme-state.ts";
import { base64urlEncode } from "../protocol/base64url.ts";
import { certPaths, type ServerConfig } from "./config.ts";
import type { EndpointCheck } from "./push-registry.ts";
import type { PushDelivery, PushOutcome } from "./push-ringer.ts";
import { checkSubscription, createPushSender, loadOrCreateVapidKeys, vapidSubject, type PushSender, type PushTransport } from "./push/index.ts";
import type { Logger } from "./logger.ts";
import { dirname } from "node:path";

export interface PushSetup {
  delivery: PushDelivery;
  publicKey: string;
  checkEndpoint: EndpointCheck;
  sender: PushSender;
  subject: string;
}

export type PushOff = { off: true; reason: string };

function acmeSources(config: ServerConfig): { acmeEmail?: string; acmeDomain?: string } {
  const paths = certPaths(config);
  if (!paths.managed) return {};
  const acme = readAcmeSettingsSync(dirname(paths.certFile));
  return acme ? { ...(acme.email ? { acmeEmail: acme.email } : {}), acmeDomain: acme.domain } : {};
}

/** Where the VAPID contact comes from, or why there is none (doctor and start-up agree). */
export function pushSubjectFor(config: ServerConfig) {
  return vapidSubject({ ...(config.pushSubject ? { pushSubject: config.pushSubject } : {}), ...acmeSources(config) });
}

/** `transport` is for tests (a stand-in's CA and resolver); production uses the system's. */
export async function setUpPush(config: ServerConfig, log: Logger, transport: PushTransport = {}): Promise<PushSetup | PushOff> {
  const subject = pushSubjectFor(config);
  if (!subject.ok) return { off: true, reason: subject.reason };
  const keys = await loadOrCreateVapidKeys(config.dataDir);
  if (keys.created) log.info("created the Web Push (VAPID) key pair", { file: keys.file });
  if (keys.repairedMode !== undefined) log.warn("the Web Push (VAPID) key file was readable by others; narrowed it to 0600", { file: keys.file, mode: keys.repairedMode.toString(8) });
  const t: PushTransport = { ...transport, hosts: [...(transport.hosts ?? []), ...config.pushHosts] };
  const sender = createPushSender({ keys, subject: subject.subject, transport: t, log });
  const delivery: PushDelivery = {
    async send(sub, payload, opts): Promise<PushOutcome> {
      const r = await sender.send({ endpoint: sub.endpoint, keys: { p256dh: base64urlEncode(sub.p256dh), auth: base64urlEncode(sub.auth) } }, payload, opts);
      if (r.ok) return { ok: true };
      if (r.gone) return { gone: true };
      return { ok: false, reason: r.reason };
    },
  };
  const checkEndpoint: EndpointCheck = (sub) => {
    const c = checkSubscription(sub, t);
    return c.ok ? null : c.reason;
  };
  return { delivery, publicKey: keys.publicKeyB64url, checkEndpoint, sender, subject: subject.subject };
}
