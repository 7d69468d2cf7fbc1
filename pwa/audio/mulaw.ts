// G.711 μ-law (ITU-T G.711 §A, the classic Sun/CCITT bit layout), on 16-bit linear samples.
const BIAS = 0x84;
const CLIP = 32635;

export function linearToMulaw(sample: number): number {
  let s = sample | 0;
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; exponent--, mask >>= 1);
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

export function mulawToLinear(code: number): number {
  const u = ~code & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + BIAS) << exponent) - BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

// Decoding is a hot loop on every received frame; 256 entries make it a lookup.
const DECODE = new Float32Array(256);
for (let i = 0; i < 256; i++) DECODE[i] = mulawToLinear(i) / 32768;

export function encodeMulaw(pcm: Float32Array, out = new Uint8Array(pcm.length)): Uint8Array {
  for (let i = 0; i < pcm.length; i++) {
    const v = pcm[i]!;
    const clamped = v > 1 ? 1 : v < -1 ? -1 : v;
    out[i] = linearToMulaw(Math.round(clamped * 32767));
  }
  return out;
}

export function decodeMulaw(codes: Uint8Array, out = new Float32Array(codes.length)): Float32Array {
  for (let i = 0; i < codes.length; i++) out[i] = DECODE[codes[i]!]!;
  return out;
}
