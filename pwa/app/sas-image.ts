// The safety-code pictures ship with the app (issue #14): system emoji differ between
// platforms and are missing on some (old Android, many Linux desktops show empty boxes), and
// two people comparing "the same" symbol must see the same picture. The 64 images are Twemoji
// graphics (© Twitter, Inc. and other contributors, CC-BY 4.0 — credited on the "How your calls
// are protected" page and in the README), copied from the @twemoji/svg package at build time
// (pwa/build.ts) to /sas/<name>.svg and precached like every other built file. Served from
// 'self' as <img src>, so the CSP needs no exception. The names stay text for screen readers.

/** Where the picture for a safety-code word is served ("thumbs up" → /sas/thumbs-up.svg). */
export function sasImageUrl(name: string): string {
  return `/sas/${name.replace(/ /g, "-")}.svg`;
}

/** Twemoji's file name for an emoji: code points in hex, U+FE0F dropped unless the sequence has a ZWJ. */
export function twemojiFileName(emoji: string): string {
  const cps = [...emoji].map((c) => c.codePointAt(0)!);
  const keep = cps.includes(0x200d) ? cps : cps.filter((c) => c !== 0xfe0f);
  return `${keep.map((c) => c.toString(16)).join("-")}.svg`;
}
