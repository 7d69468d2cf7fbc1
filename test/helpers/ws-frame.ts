// Reads one server-to-client WebSocket frame (RFC 6455 §5.2, unmasked) from the front of a
// buffer, for the test clients that speak WebSocket on a raw TLS socket.
export interface WsFrame {
  fin: boolean;
  op: number;
  payload: Buffer;
}

/** The first complete frame and what follows it, or null while the frame is still arriving. */
export function readServerFrame(buf: Buffer): { frame: WsFrame; rest: Buffer } | null {
  if (buf.length < 2) return null;
  let len = buf[1]! & 0x7f;
  let off = 2;
  if (len === 126) {
    if (buf.length < 4) return null;
    len = buf.readUInt16BE(2);
    off = 4;
  } else if (len === 127) {
    if (buf.length < 10) return null;
    len = Number(buf.readBigUInt64BE(2));
    off = 10;
  }
  if (buf.length < off + len) return null;
  return { frame: { fin: (buf[0]! & 0x80) !== 0, op: buf[0]! & 0x0f, payload: buf.subarray(off, off + len) }, rest: buf.subarray(off + len) };
}

/** A close frame's code (1005 when it has none) and reason. */
export function closeOf(payload: Buffer): { code: number; reason: string } {
  return { code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005, reason: payload.subarray(2).toString() };
}
