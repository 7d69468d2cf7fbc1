// Group names are the URL path, so they follow the original system's rules exactly:
// lower-cased, only [a-z0-9_-], at most 20 characters.
export const GROUP_NAME_MAX = 20;
const GROUP_NAME_RE = /^[a-z0-9_-]{1,20}$/;

export function isValidGroupName(name: string): boolean {
  return GROUP_NAME_RE.test(name);
}

/**
 * "My Family!" → "my-family": whitespace becomes a dash so that words stay readable, every
 * other disallowed character is dropped. Returns "" when nothing usable is left.
 */
export function sanitizeGroupName(raw: string): string {
  return raw
    .toLowerCase()
    .trim()
    .replace(/\s+/g, "-")
    .replace(/[^a-z0-9_-]/g, "")
    .replace(/-{2,}/g, "-")
    .slice(0, GROUP_NAME_MAX);
}

const ADJECTIVES = ["amber", "brave", "calm", "cozy", "daring", "eager", "fuzzy", "gentle", "happy", "jolly", "kind", "lucky", "mellow", "nimble", "quiet", "rapid", "sunny", "swift", "tidy", "witty"];
const NOUNS = ["otter", "falcon", "maple", "harbor", "comet", "meadow", "pebble", "willow", "badger", "lantern", "river", "panda", "cedar", "heron", "orbit", "tulip", "walrus", "garden", "robin", "canyon"];

function randomIndex(n: number): number {
  const buf = new Uint32Array(1);
  crypto.getRandomValues(buf);
  return buf[0]! % n;
}

/** Hard-to-guess suggestions: a group URL is the only thing that keeps strangers out. */
export function suggestGroupNames(count = 3): string[] {
  const out = new Set<string>();
  while (out.size < count) {
    const n = String(randomIndex(90) + 10);
    out.add(`${ADJECTIVES[randomIndex(ADJECTIVES.length)]}-${NOUNS[randomIndex(NOUNS.length)]}-${n}`.slice(0, GROUP_NAME_MAX));
  }
  return [...out];
}
