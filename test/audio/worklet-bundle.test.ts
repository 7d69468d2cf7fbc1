import { describe, expect, test } from "vitest";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { audioWorkletEntries, buildAudioWorklets } from "../../pwa/audio/worklets/entries.ts";

describe("audio worklet bundles", () => {
  test("each worklet becomes one self-contained module at its /audio/ URL", async () => {
    const root = await mkdtemp(join(tmpdir(), "worklets-"));
    try {
      const files = await buildAudioWorklets(root);
      expect(audioWorkletEntries.map((w) => w.url)).toEqual(["/audio/capture-worklet.js", "/audio/playback-worklet.js"]);
      expect(files).toEqual([join(root, "audio/capture-worklet.js"), join(root, "audio/playback-worklet.js")]);
      for (const [i, name] of ["voicesrv-capture", "voicesrv-playback"].entries()) {
        const js = await readFile(files[i]!, "utf8");
        expect(js).toContain(name);
        expect(js).toContain("registerProcessor");
        // addModule() can't resolve bare imports, and a relative one would need more files served.
        expect(js).not.toMatch(/^\s*import\s/m);
        expect(js.length).toBeLessThan(20_000);
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
