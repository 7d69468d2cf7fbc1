// Which file `install` copies to /usr/local/bin/voicesrv: the running executable — unless this is
// `bun cli/main.ts` from a checkout, where process.execPath is the bun runtime, not voicesrv.
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { CliError } from "../cli-error.ts";

/** True inside a `bun build --compile` executable (its modules live under /$bunfs). */
export function isCompiledBinary(): boolean {
  return Bun.main.startsWith("/$bunfs/") || import.meta.url.includes("$bunfs");
}

export function binaryToInstall(explicit: string | undefined): string {
  if (explicit) {
    const p = resolve(explicit);
    if (!existsSync(p) || !statSync(p).isFile()) throw new CliError(`--binary ${explicit}: no such file`, 2);
    return p;
  }
  if (!isCompiledBinary()) {
    throw new CliError(`build the binary first: npm run build (then run dist/voicesrv install, or ./install.sh) — this is ${process.execPath} running the source`, 2);
  }
  return process.execPath;
}
