/** Captured PCM leaves the page as base64 16-bit samples: compact, and JSON-safe for playwright. */
export function toBase64Int16(frames: Float32Array[]): string {
  const total = frames.reduce((n, f) => n + f.length, 0);
  const pcm = new Int16Array(total);
  let o = 0;
  for (const f of frames) for (let i = 0; i < f.length; i++) pcm[o++] = Math.max(-32768, Math.min(32767, Math.round(f[i]! * 32767)));
  const bytes = new Uint8Array(pcm.buffer);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}
