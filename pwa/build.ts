// Builds the PWA into dist/pwa and writes dist/pwa-assets.ts: a module that imports every
// built file `with { type: "file" }`, so `bun build --compile` embeds them in the binary
// and the server serves them with Bun.file() both from a checkout and from the binary.
//
// Order matters: everything the service worker precaches must exist before the worker is
// bundled, because its precache manifest (URL + content hash) is injected at build time.
import { createHash } from "node:crypto";
import { cp, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { buildAudioWorklets } from "./audio/worklets/entries.ts";
import { buildOpusWasm } from "./audio/opus-wasm-build.ts";
import { renderIconPngs } from "./icons/render.ts";
import { SAS_ART_URL, twemojiFileName } from "./app/sas-image.ts";
import { sasArtFromSvg } from "./sas-art-build.ts";
import { SAS_TABLE } from "./e2ee/sas-table.ts";
import { createRequire } from "node:module";
import { dirname } from "node:path";

const root = resolve(import.meta.dir, "..");
const finalOut = join(root, "dist", "pwa");
// Built beside the final folder and swapped in with renames: other test runs may be serving
// dist/pwa while this build runs, and must never see it half-written or missing.
const out = join(root, "dist", `.pwa-build-${process.pid}`);
const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { version: string };

/** Served by the server but never precached: the worker updates itself by byte comparison. */
const NOT_PRECACHED = new Set(["/sw.js", "/sw.js.map"]);

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files = await Promise.all(
    entries.map((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : Promise.resolve([join(dir, e.name)]))),
  );
  return files.flat().sort();
}

async function bundle(entrypoints: string[], outdir: string, define: Record<string, string> = {}): Promise<void> {
  const result = await Bun.build({
    entrypoints,
    outdir,
    target: "browser",
    format: "esm",
    minify: true,
    sourcemap: "none",
    naming: "[name].js",
    define: { "process.env.NODE_ENV": JSON.stringify("production"), ...define },
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error(`pwa: bundling ${entrypoints.map((e) => relative(root, e)).join(", ")} failed`);
  }
}

function manifest(): object {
  const icons = [192, 512].flatMap((size) => [
    { src: `/icons/icon-${size}.png`, sizes: `${size}x${size}`, type: "image/png", purpose: "any" },
    { src: `/icons/maskable-${size}.png`, sizes: `${size}x${size}`, type: "image/png", purpose: "maskable" },
  ]);
  return {
    name: "voicesrv — private calls",
    short_name: "voicesrv",
    description: "End-to-end encrypted voice calls for your group.",
    // One manifest serves every group, so start_url cannot name one. "/" opens the landing
    // screen, which sends a home-screen launch straight to the group used last (app/router.ts).
    start_url: "/?launch=home",
    scope: "/",
    display: "standalone",
    orientation: "portrait",
    theme_color: "#0f5c4c",
    background_color: "#0f1513",
    icons,
  };
}

async function precacheManifest(): Promise<{ url: string; revision: string }[]> {
  const files = await listFiles(out);
  const entries = await Promise.all(
    files.map(async (f) => {
      const url = "/" + relative(out, f);
      if (NOT_PRECACHED.has(url)) return null;
      const revision = createHash("sha256").update(await readFile(f)).digest("hex").slice(0, 16);
      return { url, revision };
    }),
  );
  return entries.filter((e): e is { url: string; revision: string } => e !== null);
}

export async function buildPwa(): Promise<string[]> {
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  await cp(join(import.meta.dir, "static"), out, { recursive: true });

  await bundle([join(import.meta.dir, "app", "main.ts")], out, { __APP_VERSION__: JSON.stringify(pkg.version) });
  // The sockets and a call's media path, off the page's main thread (pwa/link/link-client.ts).
  await bundle([join(import.meta.dir, "link", "link-worker.ts")], out);

  // The audio module owns the list of worklets and how they are bundled (/audio/<name>.js).
  await buildAudioWorklets(out, { minify: true });
  // The WebAssembly Opus fallback, loaded only where WebCodecs has no Opus, but precached like
  // every other file: it is code, and the build hash must cover what can run (and offline).
  await buildOpusWasm(out);

  await mkdir(join(out, "icons"), { recursive: true });
  for (const [name, png] of Object.entries(renderIconPngs())) await writeFile(join(out, "icons", name), png);
  // Only the 64 safety-code pictures, not the whole emoji set (sas-image.ts), as checked shape
  // data in one file (sas-art-build.ts says why not as SVG images).
  const twemoji = dirname(createRequire(import.meta.url).resolve("@twemoji/svg/package.json"));
  const art: Record<string, unknown> = {};
  for (const s of SAS_TABLE) {
    const file = twemojiFileName(s.emoji);
    art[s.name] = sasArtFromSvg(await readFile(join(twemoji, file), "utf8"), `@twemoji/svg/${file}`);
  }
  await mkdir(join(out, "sas"), { recursive: true });
  await writeFile(join(out, SAS_ART_URL), JSON.stringify(art));
  await writeFile(join(out, "manifest.webmanifest"), JSON.stringify(manifest(), null, 2) + "\n");

  // The build hash shown in Settings (IDENTITY.md §3's honest limit): one SHA-256 over every
  // precached file's content hash, so a published release can be compared with what a server
  // actually serves. build.json itself is precached too, so it works offline.
  const appFiles = await precacheManifest();
  const hash = createHash("sha256").update(JSON.stringify(appFiles)).digest("hex").slice(0, 32);
  await writeFile(join(out, "build.json"), JSON.stringify({ version: pkg.version, hash }) + "\n");
  await bundle([join(import.meta.dir, "sw.ts")], out, { __PRECACHE_MANIFEST__: JSON.stringify(await precacheManifest()) });

  // A concurrent build can put its own folder back between our two renames; then go again.
  for (let attempt = 0; ; attempt++) {
    const old = join(root, "dist", `.pwa-old-${process.pid}-${attempt}`);
    await rename(finalOut, old).catch(() => {});
    try {
      await rename(out, finalOut);
      await rm(old, { recursive: true, force: true });
      break;
    } catch (e) {
      await rm(old, { recursive: true, force: true });
      if (attempt >= 5) throw e;
    }
  }

  const files = await listFiles(finalOut);
  const lines = files.map((f, i) => `import f${i} from ${JSON.stringify("./" + relative(join(root, "dist"), f))} with { type: "file" };`);
  const map = files.map((f, i) => `  ${JSON.stringify("/" + relative(finalOut, f))}: f${i},`);
  const assets = join(root, "dist", "pwa-assets.ts");
  await writeFile(
    `${assets}.${process.pid}.tmp`,
    `// Generated by pwa/build.ts — do not edit.\n// @ts-nocheck — Bun's type-file imports are paths; TypeScript has no type for that.\n${lines.join("\n")}\n\nexport const pwaAssets: Record<string, string> = {\n${map.join("\n")}\n};\n`,
  );
  await rename(`${assets}.${process.pid}.tmp`, assets);
  return files;
}

if (import.meta.main) {
  const files = await buildPwa();
  console.log(`pwa: built ${files.length} files into dist/pwa`);
}
