// One line per event an operator needs. Callers pass only counts, names of groups and IDs —
// never audio, keys, key-exchange bodies or resume tokens (PROTOCOL.md §8).
export type LogLevel = "info" | "warn" | "error";

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export function consoleLogger(quiet = false): Logger {
  const line = (level: LogLevel, msg: string) => {
    const text = `${new Date().toISOString()} ${level} ${msg}`;
    if (level === "info") console.log(text);
    else console.error(text);
  };
  return {
    info: (m) => !quiet && line("info", m),
    warn: (m) => line("warn", m),
    error: (m) => line("error", m),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
