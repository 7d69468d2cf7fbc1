// Effective configuration: flags > environment (VOICESRV_*) > config file > defaults.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DEFAULT_LIMITS, type Limits } from "../protocol/limits.ts";
import { GROUP_POLICIES, type GroupPolicyName } from "./group-policy.ts";
import { hostPatternProblem } from "./push/endpoint-guard.ts";
import { parseSubject } from "./push/vapid-subject.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./logger.ts";

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  /** Explicit certificate files; otherwise <dataDir>/certs/{cert,key}.pem, generated on first start. */
  certFile?: string;
  keyFile?: string;
  /** Plain HTTP/WS for a TLS-terminating tunnel or proxy on the same host; loopback only. */
  http: boolean;
  /**
   * Where the client address comes from behind a proxy: "cloudflare" reads CF-Connecting-IP,
   * "x-forwarded-for" the entry the nearest proxy appended (the rightmost). Anything the client
   * itself can write is never trusted.
   */
  trustProxy: TrustProxy;
  /** Extra Origins allowed to open WebSockets besides the server's own. */
  allowedOrigins: string[];
  logIps: boolean;
  /** Which groups are accepted: any URL ("open"), app-created private ones ("private"), or only the operator's. */
  groups: GroupPolicyName;
  /**
   * Bearer token that lets a remote scraper read /metrics (`Authorization: Bearer <token>`);
   * without one, /metrics answers only loopback requests that no proxy forwarded.
   */
  metricsToken?: string;
  /** error | warn | info | debug (server/logger.ts). */
  logLevel: LogLevel;
  /** text lines, or one JSON object a line for a log collector. */
  logFormat: LogFormat;
  limits: Limits;
  /**
   * Web Push: host patterns of push services beyond the built-in ones (server/push/endpoint-guard.ts),
   * e.g. ["push.example.org", "*.push.example.net"].
   */
  pushHosts: string[];
  /** Web Push: the VAPID contact, "mailto:you@example.org" or "https://your.domain" (server/push/vapid-subject.ts). */
  pushSubject?: string;
}

export const TRUST_PROXY_VALUES = ["none", "cloudflare", "x-forwarded-for"] as const;
export type TrustProxy = (typeof TRUST_PROXY_VALUES)[number];

export const DEFAULT_PORT = 22000;
export const INSTALLED_DATA_DIR = "/var/lib/voicesrv";
export const INSTALLED_CONFIG_FILE = "/etc/voicesrv/config.json";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export type PartialConfig = Partial<Omit<ServerConfig, "limits">> & { limits?: Partial<Limits> };

export function defaultDataDir(): string {
  // An installed service runs from the installed binary; a checkout or a copied binary uses ./data.
  return process.execPath === "/usr/local/bin/voicesrv" && existsSync(INSTALLED_DATA_DIR) ? INSTALLED_DATA_DIR : resolve("data");
}

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ConfigError(`${name} must be a number, got "${v}"`);
  return n;
}

function bool(v: string | undefined): boolean | undefined {
  if (v === undefined || v === "") return undefined;
  return v === "1" || v.toLowerCase() === "true" || v.toLowerCase() === "yes";
}

export function configFromEnv(env: Record<string, string | undefined>): PartialConfig {
  const limits: Partial<Limits> = {};
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    const envName = "VOICESRV_" + key.replace(/[A-Z]/g, (c) => "_" + c).toUpperCase();
    const v = num(envName, env[envName]);
    if (v !== undefined) limits[key] = v;
  }
  const c: PartialConfig = {
    port: num("VOICESRV_PORT", env.VOICESRV_PORT),
    host: env.VOICESRV_HOST || undefined,
    dataDir: env.VOICESRV_DATA_DIR || undefined,
    certFile: env.VOICESRV_CERT || undefined,
    keyFile: env.VOICESRV_KEY || undefined,
    http: bool(env.VOICESRV_HTTP),
    trustProxy: (env.VOICESRV_TRUST_PROXY || undefined) as TrustProxy | undefined,
    allowedOrigins: env.VOICESRV_ALLOWED_ORIGINS ? env.VOICESRV_ALLOWED_ORIGINS.split(",").map((s) => s.trim()).filter(Boolean) : undefined,
    logIps: bool(env.VOICESRV_LOG_IPS),
    groups: (env.VOICESRV_GROUPS || undefined) as GroupPolicyName | undefined,
    metricsToken: env.VOICESRV_METRICS_TOKEN || undefined,
    logLevel: (env.VOICESRV_LOG_LEVEL || undefined) as LogLevel | undefined,
    logFormat: (env.VOICESRV_LOG_FORMAT || undefined) as LogFormat | undefined,
    pushHosts: env.VOICESRV_PUSH_HOSTS ? env.VOICESRV_PUSH_HOSTS.split(",").map((s) => s.trim()).filter(Boolean) : undefined,
    pushSubject: env.VOICESRV_PUSH_SUBJECT || undefined,
    limits,
  };
  return c;
}

export function configFromFile(path: string): PartialConfig {
  if (!existsSync(path)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ConfigError(`config file ${path} must hold a JSON object`);
  return raw as PartialConfig;
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function resolveConfig(layers: PartialConfig[]): ServerConfig {
  // Later layers win: pass [file, env, flags].
  const merged: ServerConfig = {
    port: DEFAULT_PORT,
    host: "0.0.0.0",
    dataDir: defaultDataDir(),
    http: false,
    trustProxy: "none",
    allowedOrigins: [],
    logIps: false,
    groups: "open",
    logLevel: "info",
    logFormat: "text",
    pushHosts: [],
    limits: { ...DEFAULT_LIMITS },
  };
  for (const layer of layers) {
    const { limits, ...rest } = layer;
    Object.assign(merged, defined(rest));
    if (limits) Object.assign(merged.limits, defined(limits));
  }
  validateConfig(merged);
  merged.dataDir = resolve(merged.dataDir);
  return merged;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export function validateConfig(c: ServerConfig): void {
  if (!Number.isInteger(c.port) || c.port < 0 || c.port > 65535) throw new ConfigError(`port must be 0–65535, got ${c.port}`);
  for (const k of ["http", "logIps"] as const) {
    if (typeof c[k] !== "boolean") throw new ConfigError(`${k} must be true or false, got ${JSON.stringify(c[k])}`);
  }
  if (!LOG_LEVELS.includes(c.logLevel)) throw new ConfigError(`logLevel must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(c.logLevel)}`);
  if (!LOG_FORMATS.includes(c.logFormat)) throw new ConfigError(`logFormat must be one of ${LOG_FORMATS.join(", ")}, got ${JSON.stringify(c.logFormat)}`);
  if (!TRUST_PROXY_VALUES.includes(c.trustProxy)) {
    throw new ConfigError(`trustProxy must be one of ${TRUST_PROXY_VALUES.join(", ")}, got ${JSON.stringify(c.trustProxy)}`);
  }
  if (!GROUP_POLICIES.includes(c.groups)) {
    throw new ConfigError(`groups must be one of ${GROUP_POLICIES.join(", ")}, got ${JSON.stringify(c.groups)}`);
  }
  if (!Array.isArray(c.allowedOrigins) || !c.allowedOrigins.every((o) => typeof o === "string")) {
    throw new ConfigError("allowedOrigins must be a list of origins such as [\"https://voice.example.com\"]");
  }
  if (!Array.isArray(c.pushHosts)) throw new ConfigError('pushHosts must be a list of host patterns such as ["push.example.org", "*.push.example.net"]');
  for (const p of c.pushHosts) {
    const problem = hostPatternProblem(p);
    if (problem) throw new ConfigError(`pushHosts: ${problem}`);
  }
  if (c.pushSubject !== undefined) {
    const subject = typeof c.pushSubject === "string" ? parseSubject(c.pushSubject) : { ok: false as const, reason: "must be a string" };
    if (!subject.ok) throw new ConfigError(`pushSubject: ${subject.reason}`);
  }
  if (typeof c.dataDir !== "string" || !c.dataDir) throw new ConfigError("dataDir must be a directory path");
  for (const k of ["certFile", "keyFile"] as const) {
    if (c[k] !== undefined && typeof c[k] !== "string") throw new ConfigError(`${k} must be a file path`);
  }
  if (c.metricsToken !== undefined && (typeof c.metricsToken !== "string" || !/^[\x21-\x7e]{16,256}$/.test(c.metricsToken))) {
    throw new ConfigError("metricsToken must be 16–256 visible ASCII characters (no spaces), e.g. from `openssl rand -hex 24`");
  }
  if (typeof c.host !== "string" || !c.host) throw new ConfigError("host must be an address such as 0.0.0.0 or 127.0.0.1");
  if (c.http && !LOOPBACK.has(c.host) && !c.host.startsWith("127.")) {
    throw new ConfigError(`--http serves unencrypted traffic, so it only binds to loopback (127.0.0.1 or ::1), not ${c.host}`);
  }
  if (Boolean(c.certFile) !== Boolean(c.keyFile)) throw new ConfigError("--cert and --key go together");
  if (typeof c.limits !== "object" || c.limits === null) throw new ConfigError("limits must be an object");
  for (const [k, v] of Object.entries(c.limits)) {
    if (!(k in DEFAULT_LIMITS)) throw new ConfigError(`unknown limit "${k}"`);
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new ConfigError(`limit ${k} must be a non-negative number`);
  }
}

export function certPaths(c: ServerConfig): { certFile: string; keyFile: string; managed: boolean } {
  if (c.certFile && c.keyFile) return { certFile: resolve(c.certFile), keyFile: resolve(c.keyFile), managed: false };
  return { certFile: join(c.dataDir, "certs", "cert.pem"), keyFile: join(c.dataDir, "certs", "key.pem"), managed: true };
}
