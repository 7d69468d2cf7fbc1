// The name this person chose ("What should your family call you?"), kept on this device and
// sent in every hello; the same rules as the server's (protocol/display-name.ts).
import { checkName, type NameCheck } from "../../protocol/display-name.ts";
import { database } from "./db.ts";

export async function loadMyName(): Promise<string | null> {
  try {
    const v = await (await database()).get("settings", "name");
    return typeof v === "string" && checkName(v).ok ? v : null;
  } catch {
    return null;
  }
}

export async function saveMyName(raw: string): Promise<NameCheck> {
  const c = checkName(raw);
  if (c.ok) await (await database()).put("settings", c.name, "name");
  return c;
}
