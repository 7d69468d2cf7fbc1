// Whether a public group name is one a stranger would try. A public group's address is the only
// thing that keeps strangers out (README "Groups"), so the landing page warns before joining one
// and points to a private group instead. Deliberately broad: a warning that shows for
// "rosewood" costs nothing, a missing one for "family" lets strangers see and call the family.
// Decision: no digits and fewer than 12 letters counts as guessable (the app's own suggestions,
// "sunny-otter-42", always carry digits), as does any name built around a common word.
const COMMON = ["family", "friends", "home", "house", "kids", "mom", "mum", "dad", "parents", "grandma", "grandpa", "team", "work", "office", "test", "chat", "group", "call", "calls", "voice", "club", "church", "school"];

export function isGuessableGroupName(name: string): boolean {
  const letters = name.replace(/[-_]/g, "");
  if (!/\d/.test(name) && letters.length < 12) return true;
  return name.split(/[-_]/).some((part) => COMMON.includes(part));
}
