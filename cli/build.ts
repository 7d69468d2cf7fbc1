// Compiles the one self-contained executable: Bun runtime + server + CLI + the built PWA
// (embedded through dist/pwa-assets.ts).
//
//   bun cli/build.ts                                   dist/voicesrv for this machine
//   bun cli/build.ts --target bun-linux-arm64 --target bun-linux-x64-baseline
//                                                      dist/voicesrv-linux-arm64, dist/voicesrv-linux-x64-baseline
//   bun cli/build.ts --outfile /tmp/x --build-label rc1   version reads 0.1.0+rc1
//
// Every build writes dist/SHA256SUMS (`sha256sum -c` format) for the files in dist/ it knows:
// a cross-built binary is copied to a Raspberry Pi and checked there. Bun fetches the runtime
// for another target itself (from the npm registry) the first time.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, relative, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    target: { type: "string", multiple: true },
    outfile: { type: "string" },
    "build-label": { type: "string" },
  },
});
const root = resolve(import.meta.dir, "..");
const targets = (values.target ?? []).flatMap((t) => t.split(",")).map((t) => t.trim()).filter(Boolean);
if (values.outfile && targets.length > 1) {
  console.error("build: --outfile names one file: give one --target with it");
  process.exit(2);
}
const label = values["build-label"];
if (label !== undefined && !/^[0-9A-Za-z.-]+$/.test(label)) {
  console.error(`build: --build-label takes letters, digits, dots and dashes (semver build metadata), got "${label}"`);
  process.exit(2);
}

function outfileFor(target: string | undefined): string {
  if (values.outfile) return resolve(root, values.outfile);
  return resolve(root, target ? `dist/voicesrv-${target.replace(/^bun-/, "")}` : "dist/voicesrv");
}

function build(target: string | undefined): string {
  const outfile = outfileFor(target);
  const args = [
    "build",
    "--compile",
    "--minify",
    "--sourcemap",
    // A .env or bunfig.toml in a service's working directory must never change or inject code.
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    ...(label ? ["--define", `VOICESRV_BUILD_LABEL=${JSON.stringify(label)}`] : []),
    ...(target ? [`--target=${target}`] : []),
    "--outfile",
    outfile,
    resolve(root, "cli/main.ts"),
  ];
  const proc = Bun.spawnSync([process.execPath, ...args], { cwd: root, stdout: "inherit", stderr: "inherit", env: { ...process.env, NODE_ENV: "production" } });
  if (proc.exitCode !== 0) {
    console.error(`build: bun build --compile${target ? ` --target=${target}` : ""} failed`);
    process.exit(proc.exitCode ?? 1);
  }
  console.log(`build: ${outfile}`);
  return outfile;
}

/** Adds (or replaces) the lines for `files` in SHA256SUMS next to them. */
function writeSums(files: string[]): void {
  for (const dir of new Set(files.map(dirname))) {
    const sums = resolve(dir, "SHA256SUMS");
    const lines = new Map<string, string>();
    if (existsSync(sums)) {
      for (const line of readFileSync(sums, "utf8").split("\n")) {
        const m = line.match(/^([0-9a-f]{64}) [ *](.+)$/);
        // Only entries whose file still exists: a stale hash is worse than none.
        if (m && existsSync(resolve(dir, m[2]!))) lines.set(m[2]!, m[1]!);
      }
    }
    for (const f of files.filter((f) => dirname(f) === dir)) lines.set(basename(f), createHash("sha256").update(readFileSync(f)).digest("hex"));
    writeFileSync(sums, [...lines].sort(([a], [b]) => a.localeCompare(b)).map(([name, hash]) => `${hash}  ${name}`).join("\n") + "\n");
    console.log(`build: ${relative(root, sums) || sums}`);
  }
}

const built = targets.length ? targets.map(build) : [build(undefined)];
writeSums(built);
