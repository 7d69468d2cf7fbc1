// The burst fixture with its bursts 2 s apart instead of 500 ms, for conditions where the one-way
// delay may rightly exceed 500 ms (see onset-delay.ts): the same burst, cut from the committed
// fixture's first period, followed by silence. Written to a temporary file because Chromium's
// fake microphone only plays files.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readWav, wavBytes } from "../../test/audio/wav.ts";
import { BURST_PERIOD_MS } from "./onset-delay.ts";

export const SPARSE_BURST_PERIOD_MS = 2000;

export interface SparseBursts {
  path: string;
  periodMs: number;
  remove(): void;
}

export function writeSparseBursts(burstsWav: string): SparseBursts {
  const { sampleRate, samples } = readWav(burstsWav);
  const period = Math.round((BURST_PERIOD_MS * sampleRate) / 1000);
  const out = new Float32Array(Math.round((SPARSE_BURST_PERIOD_MS * sampleRate) / 1000));
  out.set(samples.subarray(0, period));
  const dir = mkdtempSync(join(tmpdir(), "voicesrv-bursts-"));
  const path = join(dir, `bursts-every-${SPARSE_BURST_PERIOD_MS}ms.wav`);
  writeFileSync(path, wavBytes(out, sampleRate));
  return { path, periodMs: SPARSE_BURST_PERIOD_MS, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
