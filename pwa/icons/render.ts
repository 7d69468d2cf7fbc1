// Draws the app icon as PNGs at build time, so no binary image is committed and no external
// tool or service is needed. The same shape is in pwa/static/favicon.svg: a speech dot with two
// sound waves on a green tile. "maskable" icons fill the whole square and keep the drawing inside
// the 80 % safe zone that launchers may crop to; "any" icons have rounded, transparent corners.
import { deflateSync } from "node:zlib";

const BG: RGB = [15, 92, 76];
const FG: RGB = [255, 255, 255];
type RGB = [number, number, number];

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** RGBA, 8 bits per channel, filter 0 on every row: small enough for flat icons. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Uint8Array {
  const raw = new Uint8Array(height * (width * 4 + 1));
  for (let y = 0; y < height; y++) raw.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * (width * 4 + 1) + 1);
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const sig = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);
  const parts = [sig, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw, { level: 9 })), chunk("IEND", new Uint8Array(0))];
  const png = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    png.set(p, off);
    off += p.length;
  }
  return png;
}

/** Coverage of the foreground drawing at (x, y) in a unit square scaled by `scale` around the centre. */
function foreground(x: number, y: number, scale: number): boolean {
  const cx = (x - 0.5) / scale;
  const cy = (y - 0.5) / scale;
  const dx = cx + 0.16;
  const r = Math.hypot(dx, cy);
  if (r < 0.12) return true;
  // Waves: rings around the dot, only on its right, within ±50°.
  const angle = Math.abs(Math.atan2(cy, dx));
  if (dx <= 0 || angle > (50 * Math.PI) / 180) return false;
  return (r > 0.22 && r < 0.3) || (r > 0.38 && r < 0.46);
}

function insideRoundedSquare(x: number, y: number, radius: number): boolean {
  const qx = Math.max(Math.abs(x - 0.5) - (0.5 - radius), 0);
  const qy = Math.max(Math.abs(y - 0.5) - (0.5 - radius), 0);
  return Math.hypot(qx, qy) <= radius;
}

function renderIcon(size: number, maskable: boolean): Uint8Array {
  const ss = 4;
  const rgba = new Uint8Array(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let bg = 0;
      let fg = 0;
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          const x = (px + (sx + 0.5) / ss) / size;
          const y = (py + (sy + 0.5) / ss) / size;
          if (!maskable && !insideRoundedSquare(x, y, 0.22)) continue;
          bg++;
          if (foreground(x, y, maskable ? 0.62 : 0.8)) fg++;
        }
      }
      const n = ss * ss;
      const a = bg / n;
      const f = bg ? fg / bg : 0;
      const i = (py * size + px) * 4;
      for (let c = 0; c < 3; c++) rgba[i + c] = Math.round(BG[c]! * (1 - f) + FG[c]! * f);
      rgba[i + 3] = Math.round(a * 255);
    }
  }
  return encodePng(size, size, rgba);
}

export function renderIconPngs(): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const size of [192, 512]) {
    out[`icon-${size}.png`] = renderIcon(size, false);
    out[`maskable-${size}.png`] = renderIcon(size, true);
  }
  // iOS ignores manifest icons and wants a square, opaque apple-touch-icon.
  out["apple-touch-icon.png"] = renderIcon(180, true);
  return out;
}
