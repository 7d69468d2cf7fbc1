// Build-time only (uses Bun.build): puts the WebAssembly Opus fallback in the web root as three
// same-origin ES modules — the worker (opus-wasm-worker.ts) at OPUS_WASM_WORKER_URL, and beside it
// the libopus-wasm library it imports, as libopus.js + libopus-core.js. Started only where
// WebCodecs has no Opus (opus-wasm-codec.ts); not in main.js, so browsers with WebCodecs never
// fetch, parse or compile it.
//
// Why two files and not the bundler's chunk: the library inlines its .wasm as a binary string of
// raw UTF-8 characters (379 KB); Bun re-escapes every non-ASCII character, which nearly doubles
// it (708 KB), and the server sends files uncompressed. So the generated Emscripten module is
// copied byte for byte, and only the small wrapper in front of it is bundled (minified), its
// import rewritten to the copy. Both end in .js so every server and the compiled binary serve
// them as JavaScript (nosniff).
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { OPUS_WASM_WORKER_URL } from "./opus-wasm-codec.ts";

/** The library's wrapper and its generated module, beside the worker under the web root. */
const LIBRARY_FILE = "libopus.js";
const CORE_FILE = "libopus-core.js";
const GENERATED_IMPORT = "./generated/libopus.generated.mjs";

/** Writes the worker at OPUS_WASM_WORKER_URL and the library beside it under `webRoot`.
 *  Returns the written file paths. */
export async function buildOpusWasm(webRoot: string): Promise<string[]> {
  const workerOut = join(webRoot, OPUS_WASM_WORKER_URL);
  const worker = await Bun.build({
    entrypoints: [join(dirname(fileURLToPath(import.meta.url)), "opus-wasm-worker.ts")],
    target: "browser",
    format: "esm",
    minify: true,
    sourcemap: "none",
    plugins: [
      {
        name: "libopus-external",
        setup(build) {
          build.onResolve({ filter: /^libopus-wasm$/ }, () => ({ path: "./" + LIBRARY_FILE, external: true }));
        },
      },
    ],
  });
  if (!worker.success) throw new AggregateError(worker.logs, "bundling the Opus worker failed");
  const workerCode = await worker.outputs[0]!.text();
  if (!workerCode.includes(`"./${LIBRARY_FILE}"`)) throw new Error("opus worker: it no longer imports the library beside it");
  await Bun.write(workerOut, workerCode);

  const pkgDir = dirname(createRequire(import.meta.url).resolve("libopus-wasm/package.json"));
  const result = await Bun.build({
    entrypoints: [join(pkgDir, "dist", "index.js")],
    target: "browser",
    format: "esm",
    minify: true,
    sourcemap: "none",
    plugins: [
      {
        name: "libopus-core-external",
        setup(build) {
          build.onResolve({ filter: /libopus\.generated\.mjs$/ }, (args) => {
            if (args.path !== GENERATED_IMPORT) throw new Error(`libopus-wasm: unexpected import ${args.path}`);
            return { path: "./" + CORE_FILE, external: true };
          });
        },
      },
    ],
  });
  if (!result.success) throw new AggregateError(result.logs, "bundling libopus-wasm failed");
  const wrapper = await result.outputs[0]!.text();
  // The rewrite must have happened, or the wrapper would fetch a file that is not there.
  if (!wrapper.includes(`"./${CORE_FILE}"`)) throw new Error("libopus-wasm: the wrapper no longer imports its generated module");
  const wrapperOut = join(dirname(workerOut), LIBRARY_FILE);
  const coreOut = join(dirname(workerOut), CORE_FILE);
  await Bun.write(wrapperOut, wrapper);
  await Bun.write(coreOut, await readFile(join(pkgDir, "dist", "generated", "libopus.generated.mjs")));
  return [workerOut, wrapperOut, coreOut];
}
