// The worklet files the app must serve. AudioWorklet modules are loaded by URL
// (audioContext.audioWorklet.addModule), so they cannot be part of the main bundle: each is
// bundled on its own into a self-contained ES module. Build-time only (uses Bun.build).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// import.meta.dir is Bun-only; vitest rewrites modules, so derive the folder from the URL.
const here = dirname(fileURLToPath(import.meta.url));

export interface AudioWorkletEntry {
  /** Absolute path of the TypeScript entry. */
  entry: string;
  /** Path under the web root where the app serves the bundle; CallAudioOptions.workletBase + file name. */
  url: string;
}

export const audioWorkletEntries: readonly AudioWorkletEntry[] = [
  { entry: join(here, "capture-worklet.ts"), url: "/audio/capture-worklet.js" },
  { entry: join(here, "playback-worklet.ts"), url: "/audio/playback-worklet.js" },
];

/** Bundles every worklet into `webRoot` + its url (e.g. dist/pwa/audio/capture-worklet.js).
 *  Returns the written file paths. */
export async function buildAudioWorklets(webRoot: string, options: { minify?: boolean } = {}): Promise<string[]> {
  const written: string[] = [];
  for (const w of audioWorkletEntries) {
    const result = await Bun.build({
      entrypoints: [w.entry],
      target: "browser",
      format: "esm",
      minify: options.minify ?? true,
      sourcemap: "none",
    });
    if (!result.success) throw new AggregateError(result.logs, `bundling ${w.entry} failed`);
    const out = join(webRoot, w.url);
    await Bun.write(out, await result.outputs[0]!.text());
    written.push(out);
  }
  return written;
}
