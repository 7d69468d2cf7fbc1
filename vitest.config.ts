import { defineConfig, type Plugin } from "vitest/config";

// dist/pwa-assets.ts imports the built PWA files `with { type: "file" }` so the compiled binary
// embeds them; Bun resolves such an import to the file's path. Vite does not know that import
// attribute, so tests get the same meaning here: the default export is the file's path.
// The ids are made virtual ("\0" prefix) so no other plugin (vite:json for build.json) reads the
// file's contents.
const VIRTUAL = "\0bun-file:";
const bunFileImports: Plugin = {
  name: "bun-file-imports",
  enforce: "pre",
  async resolveId(source, importer, options) {
    if (!source.includes("/pwa/") || !importer?.includes("/dist/")) return null;
    const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
    const path = resolved?.id.split("?")[0];
    // The ".js" ending keeps extension-based plugins (vite:json for build.json) away.
    return path?.includes("/dist/pwa/") ? `${VIRTUAL}${path}.js` : null;
  },
  load(id) {
    if (id.startsWith(VIRTUAL)) return `export default ${JSON.stringify(id.slice(VIRTUAL.length, -".js".length))};`;
    return null;
  },
};

export default defineConfig({
  plugins: [bunFileImports],
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // One file at a time: browser tests play and record real-time audio in Chromium, and on a
    // 2-core machine a second test file running beside them starves Chromium's audio threads
    // (speech then arrives garbled and the correlation checks fail for the wrong reason).
    fileParallelism: false,
    reporters: ["default"],
  },
});
