// People's names (IDENTITY.md §1), checked by the app before it sends one and by the server
// before it stores one — the same function, so both refuse the same names.
//
// Open choices recorded in docs/IDENTITY-NOTES.md:
// - "characters" are Unicode code points after NFC and trimming (a family name in any script
//   fits; a 32-emoji name cannot happen because symbols are not allowed).
// - allowed: letters (L), marks (M), decimal and other numbers (N), the ASCII space, and
//   punctuation (P) — apostrophes, hyphens, dots, brackets, quotes. Runs of spaces fold to one.
// - everything else is refused rather than stripped: control (Cc), format (Cf: zero-width
//   joiners, bidi overrides and isolates), separators other than U+0020, symbols (S), private
//   use and unassigned code points. Refusing tells the person; stripping would silently change
//   what they typed, and a stripped bidi override is exactly how a name is made to look like
//   someone else's.
export const NAME_MAX_CHARS = 32;

const ALLOWED = /^[\p{L}\p{M}\p{N}\p{P} ]+$/u;

export type NameProblem = "empty" | "too-long" | "bad-characters";

export type NameCheck = { ok: true; name: string } | { ok: false; problem: NameProblem; message: string };

export function checkName(raw: unknown): NameCheck {
  if (typeof raw !== "string") return { ok: false, problem: "empty", message: "a name is needed" };
  // Trim Unicode white space only: JS's trim() would also drop U+FEFF, a format character that
  // must be refused like the others rather than silently removed.
  const name = raw.normalize("NFC").replace(/^\p{White_Space}+|\p{White_Space}+$/gu, "").replace(/ {2,}/g, " ");
  if (name.length === 0) return { ok: false, problem: "empty", message: "a name is needed" };
  if ([...name].length > NAME_MAX_CHARS) return { ok: false, problem: "too-long", message: `a name has at most ${NAME_MAX_CHARS} characters` };
  // A lone letter-like mark at the start would combine with whatever the UI puts before it.
  if (!ALLOWED.test(name) || /^\p{M}/u.test(name)) {
    return { ok: false, problem: "bad-characters", message: "use letters, digits, spaces and punctuation only" };
  }
  return { ok: true, name };
}
