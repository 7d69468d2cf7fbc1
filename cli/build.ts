// Compiles the one self-contained executable: Bun runtime + server + CLI + the built PWA
// (embedded through dist/pwa-assets.ts). Usage: bun cli/build.ts [--target bun-linux-arm64] [--outfile dist/voicesrv]
import { parseArgs } from "node:util";
import { resolve } from "node:path";

const { values } = parseArgs({
  options: { target: { type: "string" }, outfile: { type: "string", default: "dist/voicesrv" } },
});
const root = resolve(import.meta.dir, "..");
const outfile = resolve(root, values.outfile!);

const args = [
  "build",
  "--compile",
  "--minify",
  "--sourcemap",
  // A .env or bunfig.toml in a service's working directory must never change or inject code.
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
  ...(values.target ? [`--target=${values.target}`] : []),
  "--outfile",
  outfile,
  resolve(root, "cli/main.ts"),
];
const proc = Bun.spawnSync([process.execPath, ...args], { cwd: root, stdout: "inherit", stderr: "inherit", env: { ...process.env, NODE_ENV: "production" } });
if (proc.exitCode !== 0) {
  console.error("build: bun build --compile failed");
  process.exit(proc.exitCode ?? 1);
}
console.log(`build: ${outfile}`);
