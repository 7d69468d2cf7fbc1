// Human output for operator commands. Colour only on a terminal and never with NO_COLOR
// (https://no-color.org), so piped output and logs stay plain text.
const useColor = (): boolean => !process.env.NO_COLOR && process.env.TERM !== "dumb" && Boolean(process.stdout.isTTY);

function paint(code: string, text: string): string {
  return useColor() ? `\x1b[${code}m${text}\x1b[0m` : text;
}

export const color = {
  ok: (t: string) => paint("32", t),
  warn: (t: string) => paint("33", t),
  bad: (t: string) => paint("31", t),
  dim: (t: string) => paint("2", t),
  bold: (t: string) => paint("1", t),
};

export type Level = "ok" | "warn" | "fail" | "info";

export function mark(level: Level): string {
  switch (level) {
    case "ok":
      return color.ok("ok  ");
    case "warn":
      return color.warn("warn");
    case "fail":
      return color.bad("FAIL");
    default:
      return color.dim("info");
  }
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}
