// Secrets of private groups (IDENTITY.md §3). G arrives once, in an invite link's fragment
// (`/<group>#<base64url(G)>`), which browsers never send to a server; it is kept per group in
// IndexedDB so the link is needed only once, and removed from the address bar at once.
import { base64urlDecode, base64urlEncode } from "../../protocol/base64url.ts";
import { GROUP_SECRET_BYTES } from "../../protocol/identity-v2.ts";
import { database, type StoredGroupSecret } from "./db.ts";

export function newGroupSecret(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(GROUP_SECRET_BYTES));
}

/** G from a URL fragment, or null when the fragment is not one. */
export function secretFromFragment(hash: string): Uint8Array | null {
  const b = base64urlDecode(hash.replace(/^#/, ""));
  return b && b.length === GROUP_SECRET_BYTES ? b : null;
}

export function inviteLink(origin: string, group: string, secret: Uint8Array | null): string {
  return `${origin}/${group}${secret ? `#${base64urlEncode(secret)}` : ""}`;
}

export async function groupSecret(group: string): Promise<StoredGroupSecret | null> {
  try {
    return (await (await database()).get("groupSecrets", group)) ?? null;
  } catch {
    return null;
  }
}

export async function saveGroupSecret(group: string, secret: Uint8Array, creating: boolean): Promise<void> {
  await (await database()).put("groupSecrets", { group, secret, creating });
}

/** The server accepted the group: later hellos join it instead of creating it. */
export async function markGroupCreated(group: string): Promise<void> {
  const s = await groupSecret(group);
  if (s?.creating) await saveGroupSecret(group, s.secret, false);
}

export async function forgetGroupSecret(group: string): Promise<void> {
  await (await database()).delete("groupSecrets", group);
}
