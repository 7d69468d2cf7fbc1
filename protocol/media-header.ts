// PROTOCOL.md §6: header = type:u8 (0x01 media) || callHandle:u32 || epoch:u8 || seq:u48.
// The header is the AES-GCM additional data, so the server forwards it byte for byte and
// only ever reads the callHandle to route.

export const MEDIA_TYPE = 0x01;
export const MEDIA_HEADER_BYTES = 12;
export const MAX_SEQ = 2 ** 48 - 1;

export interface MediaHeader {
  type: number;
  callHandle: number;
  epoch: number;
  seq: number;
}

export class MediaHeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MediaHeaderError";
  }
}

export function encodeMediaHeader(h: Omit<MediaHeader, "type"> & { type?: number }): Uint8Array {
  const type = h.type ?? MEDIA_TYPE;
  if (!Number.isInteger(type) || type < 0 || type > 0xff) throw new MediaHeaderError("type must be a u8");
  if (!Number.isInteger(h.callHandle) || h.callHandle < 0 || h.callHandle > 0xffffffff)
    throw new MediaHeaderError("callHandle must be a u32");
  if (!Number.isInteger(h.epoch) || h.epoch < 0 || h.epoch > 0xff) throw new MediaHeaderError("epoch must be a u8");
  if (!Number.isInteger(h.seq) || h.seq < 0 || h.seq > MAX_SEQ) throw new MediaHeaderError("seq must be a u48");
  const out = new Uint8Array(MEDIA_HEADER_BYTES);
  const v = new DataView(out.buffer);
  v.setUint8(0, type);
  v.setUint32(1, h.callHandle);
  v.setUint8(5, h.epoch);
  // u48 = high u16 || low u32; seq stays below 2^53 so plain arithmetic is exact.
  v.setUint16(6, Math.floor(h.seq / 2 ** 32));
  v.setUint32(8, h.seq % 2 ** 32);
  return out;
}

export function decodeMediaHeader(frame: Uint8Array): MediaHeader {
  if (frame.byteLength < MEDIA_HEADER_BYTES) throw new MediaHeaderError("frame shorter than the media header");
  const v = new DataView(frame.buffer, frame.byteOffset, MEDIA_HEADER_BYTES);
  return {
    type: v.getUint8(0),
    callHandle: v.getUint32(1),
    epoch: v.getUint8(5),
    seq: v.getUint16(6) * 2 ** 32 + v.getUint32(8),
  };
}

/** Routing needs only the handle; reading it must not allocate on the relay's hot path. */
export function readCallHandle(frame: Uint8Array): number | null {
  if (frame.byteLength < MEDIA_HEADER_BYTES || frame[0] !== MEDIA_TYPE) return null;
  return ((frame[1]! << 24) >>> 0) + (frame[2]! << 16) + (frame[3]! << 8) + frame[4]!;
}
