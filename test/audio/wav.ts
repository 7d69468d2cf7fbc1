// Minimal RIFF/WAVE reader for the 16-bit PCM fixtures (mono or first channel of several).
import { readFileSync } from "node:fs";

export interface Wav {
  sampleRate: number;
  samples: Float32Array;
}

export function parseWav(bytes: Uint8Array): Wav {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (o: number) => String.fromCharCode(...bytes.subarray(o, o + 4));
  if (tag(0) !== "RIFF" || tag(8) !== "WAVE") throw new Error("not a RIFF/WAVE file");
  let offset = 12;
  let sampleRate = 0;
  let channels = 0;
  let bits = 0;
  while (offset + 8 <= bytes.length) {
    const id = tag(offset);
    const size = v.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === "fmt ") {
      if (v.getUint16(body, true) !== 1) throw new Error("only PCM WAV is supported");
      channels = v.getUint16(body + 2, true);
      sampleRate = v.getUint32(body + 4, true);
      bits = v.getUint16(body + 14, true);
    } else if (id === "data") {
      if (bits !== 16) throw new Error("only 16-bit WAV is supported");
      const frames = Math.floor(Math.min(size, bytes.length - body) / (2 * channels));
      const samples = new Float32Array(frames);
      for (let i = 0; i < frames; i++) samples[i] = v.getInt16(body + i * 2 * channels, true) / 32768;
      return { sampleRate, samples };
    }
    offset = body + size + (size & 1);
  }
  throw new Error("no data chunk");
}

export function readWav(path: string): Wav {
  return parseWav(new Uint8Array(readFileSync(path)));
}

export const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;
