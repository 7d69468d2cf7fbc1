// The safety-code pictures ship with the app (issue #14): system emoji differ between
// platforms and are missing on some (old Android, many Linux desktops show empty boxes), and
// two people comparing "the same" symbol must see the same picture. The 64 images are Twemoji
// graphics (© Twitter, Inc. and other contributors, CC-BY 4.0 — credited on the "How your calls
// are protected" page and in the README), taken from the @twemoji/svg package at build time
// (pwa/build.ts) as checked shape data in one file, SAS_ART_URL (../sas-art-build.ts), precached
// like every other built file, and drawn as inline SVG (sas-art.ts). Same-origin data drawn
// through attribute bindings, so the CSP needs no exception. The names stay text for screen readers.

/** Where the shape data of all 64 pictures is served. */
export const SAS_ART_URL = "/sas/art.json";

export type SasShape =
  | { t: "path"; d: string; fill?: string }
  | { t: "circle"; cx: string; cy: string; r: string; fill?: string }
  | { t: "ellipse"; cx: string; cy: string; rx: string; ry: string; fill?: string }
  | { t: "g"; fill?: string; children: SasShape[] };

/** One picture: the SVG's viewBox and its shapes. */
export interface SasArt {
  viewBox: string;
  shapes: SasShape[];
}

/** Twemoji's file name for an emoji: code points in hex, U+FE0F dropped unless the sequence has a ZWJ. */
export function twemojiFileName(emoji: string): string {
  const cps = [...emoji].map((c) => c.codePointAt(0)!);
  const keep = cps.includes(0x200d) ? cps : cps.filter((c) => c !== 0xfe0f);
  return `${keep.map((c) => c.toString(16)).join("-")}.svg`;
}
