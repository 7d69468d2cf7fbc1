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
    // Integration and browser tests start real servers and Chromium; 2 cores here.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ["default"],
  },
});
