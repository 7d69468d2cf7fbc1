import { defineConfig, type Plugin } from "vitest/config";

// dist/pwa-assets.ts imports the built PWA files `with { type: "file" }` so the compiled binary
// embeds them; Bun resolves such an import to the file's path. Vite does not know that import
// attribute, so tests get the same meaning here: the default export is the file's path.
const bunFileImports: Plugin = {
  name: "bun-file-imports",
  enforce: "pre",
  load(id) {
    const path = id.split("?")[0]!;
    if (path.includes("/dist/pwa/")) return `export default ${JSON.stringify(path)};`;
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
