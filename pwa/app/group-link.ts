// What the address bar says about a group: a group, nothing (the landing page), or a link that
// is not a group address — and then what was wrong with it and the name it could have meant.
// Decisions: upper case is the same group (the server redirects it too, see http-app.ts);
// anything else is never quietly turned into another group, because opening a group makes you
// visible in it — the person chooses the cleaned-up name themselves (landing.ts).
import { GROUP_NAME_MAX, isValidGroupName, sanitizeGroupName } from "../../protocol/group-name.ts";

export interface BadGroupLink {
  /** The address as people would read it ("/My Family!"), for the explanation. */
  shown: string;
  /** One sentence: what is wrong with it. */
  reason: string;
  /** The cleaned-up name, or "" when nothing of it is usable. */
  suggestion: string;
}

export type GroupPath = { group: string | null; bad: null } | { group: null; bad: BadGroupLink };

export function readGroupPath(pathname: string): GroupPath {
  const raw = pathname.replace(/^\//, "");
  if (raw === "") return { group: null, bad: null };
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    name = raw;
  }
  if (isValidGroupName(name)) return { group: name, bad: null };
  if (isValidGroupName(name.toLowerCase())) return { group: name.toLowerCase(), bad: null };
  const suggestion = sanitizeGroupName(name.replace(/\//g, " "));
  let reason: string;
  if (name.includes("/")) reason = "A group address has only one part after the server's name.";
  else if (/[^A-Za-z0-9_\s-]/.test(name)) reason = "Group names use only letters a–z, digits, “-” and “_”.";
  else if (/\s/.test(name)) reason = "Group names have no spaces (a dash joins the words).";
  else reason = `Group names are at most ${GROUP_NAME_MAX} characters; this one has ${[...name].length}.`;
  return { group: null, bad: { shown: `/${name}`, reason, suggestion } };
}
