// IDENTITY.md §7: every media frame of a call has the same length, so the relay cannot read
// speech patterns from frame sizes. Inside the ciphertext, each codec payload is length-prefixed
// and padded to a fixed slot for that codec:  u16 length (big-endian) || payload || zeros.
//
// Decisions (docs/IDENTITY-NOTES.md, BENCHMARKS.md):
// - Opus is also asked for constant bitrate (24 kbit/s → 60-byte packets) with DTX off, so the
//   rate is constant too; the 120-byte slot leaves room for browsers that ignore CBR. A packet
//   that does not fit is dropped (a 20 ms gap) rather than sent at a telling size.
// - μ-law frames are 320 bytes by construction; they get the same prefix for one format.
// - The receiver refuses a length beyond the slot or non-zero padding: a frame is either
//   exactly what a sender of this format made, or dropped.
export const PAYLOAD_SLOTS = { opus: 120, pcmu16: 320 } as const;
export type PaddedCodec = keyof typeof PAYLOAD_SLOTS;

export function padPayload(payload: Uint8Array, slot: number): Uint8Array | null {
  if (payload.length > slot || slot > 0xffff) return null;
  const out = new Uint8Array(2 + slot);
  out[0] = payload.length >> 8;
  out[1] = payload.length & 0xff;
  out.set(payload, 2);
  return out;
}

export function unpadPayload(plain: Uint8Array, slot: number): Uint8Array | null {
  if (plain.length !== 2 + slot) return null;
  const len = (plain[0]! << 8) | plain[1]!;
  if (len > slot) return null;
  for (let i = 2 + len; i < plain.length; i++) if (plain[i] !== 0) return null;
  return plain.subarray(2, 2 + len);
}
