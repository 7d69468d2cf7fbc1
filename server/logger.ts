// One line per event an operator needs, as text or JSON lines. The API is `log.info(event,
// fields)`: `event` is a short fixed phrase ("connection refused"), `fields` the facts (group,
// member ID, reason, counts). Callers pass only counts, group names, member IDs and reasons —
// never audio, keys, key-exchange bodies or resume tokens (PROTOCOL.md §8). As a backstop, a
// field whose name says it holds a secret is written as "[redacted]" and never reaches the log.
//
// Decisions the spec leaves open:
// - Text lines are `TIME LEVEL event key=value …`; values with spaces, quotes or `=` are JSON
//   quoted so a line stays one line and splits unambiguously. JSON lines carry
//   {time, level, event, ...fields}.
// - error and warn go to stderr, info and debug to stdout (journald keeps both; a terminal user
//   can silence info with 1>/dev/null).
// - Level names and order follow syslog: error < warn < info < debug.

export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type LogValue = string | number | boolean | null | undefined;
export type LogFields = Record<string, LogValue>;

export interface Logger {
  error(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  debug(event: string, fields?: LogFields): void;
}

/**
 * Field names that could carry secret material: their values are never written. Matched on the
 * end of the name, so `publicKey`, `resumeToken` and `kxBody` are caught while `keyFile` or
 * `kxRelayed` (a path, a count) are not.
 */
const SECRET_FIELD = /(^kx|key|token|secret|proof|password|passwd|credential|cookie|authorization|sdp|audio|pcm|payload|body|data)$/i;

export function isSecretField(name: string): boolean {
  return SECRET_FIELD.test(name);
}

function clean(fields: LogFields | undefined): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  if (!fields) return out;
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out[k] = isSecretField(k) ? "[redacted]" : v;
  }
  return out;
}

function textValue(v: string | number | boolean | null): string {
  const s = String(v);
  return typeof v === "string" && (s === "" || /[\s"=\\]/.test(s)) ? JSON.stringify(s) : s;
}

export function formatLine(format: LogFormat, level: LogLevel, event: string, fields: LogFields | undefined, now = new Date()): string {
  const f = clean(fields);
  if (format === "json") return JSON.stringify({ time: now.toISOString(), level, event, ...f });
  // An event is a fixed phrase; a newline in one (from an error message) must not forge a line.
  const msg = event.replace(/[\r\n]+/g, " ");
  const kv = Object.entries(f).map(([k, v]) => `${k}=${textValue(v)}`);
  return [now.toISOString(), level, msg, ...kv].join(" ");
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go; defaults to stdout for info/debug and stderr for warn/error. */
  write?: (line: string, level: LogLevel) => void;
}

const rank = (l: LogLevel) => LOG_LEVELS.indexOf(l);

export function createLogger(opts: LoggerOptions = {}): Logger {
  const max = rank(opts.level ?? "info");
  const format = opts.format ?? "text";
  const write =
    opts.write ??
    ((line: string, level: LogLevel) => {
      if (level === "error" || level === "warn") process.stderr.write(line + "\n");
      else process.stdout.write(line + "\n");
    });
  const at = (level: LogLevel) => (event: string, fields?: LogFields) => {
    if (rank(level) > max) return;
    write(formatLine(format, level, event, fields), level);
  };
  return { error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug") };
}

/** Kept for callers of the old API: quiet means warnings and errors only. */
export function consoleLogger(quiet = false): Logger {
  return createLogger({ level: quiet ? "warn" : "info" });
}

export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };

export function parseLogLevel(v: string): LogLevel | null {
  return (LOG_LEVELS as readonly string[]).includes(v) ? (v as LogLevel) : null;
}

export function parseLogFormat(v: string): LogFormat | null {
  return (LOG_FORMATS as readonly string[]).includes(v) ? (v as LogFormat) : null;
}
