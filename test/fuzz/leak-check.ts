// Does a server reply give away something about the machine: a file path or a stack trace?
// The fuzzer's own inputs never contain these shapes, so an echo of client input cannot
// trigger a false alarm.
const ROOT_DIRS = /\/(?:home|root|tmp|usr|var|etc|work|opt|srv|proc|dev|run|mnt|snap|nix|Users|private)\//;
const SOURCE_FILE = /[\w-]+\.(?:ts|tsx|js|mjs|cjs)\b|node_modules|\$bunfs|file:\/\//;
const STACK = /\bat\s+(?:\S+\s+)?\(?[^\s()]+:\d+:\d+\)?|^\s+at\s/m;
const ERROR_NAME = /\b(?:Type|Range|Syntax|Reference|Internal|Eval|URI)?Error: /;

export function leakKind(text: string, secrets: string[] = []): "path" | "stack" | null {
  if (STACK.test(text) || ERROR_NAME.test(text)) return "stack";
  if (ROOT_DIRS.test(text) || SOURCE_FILE.test(text)) return "path";
  if (secrets.some((s) => s && text.includes(s))) return "path";
  return null;
}
