// "Recently used groups" on the landing screen; a home-screen launch reopens the newest one.
import { isValidGroupName } from "../../protocol/group-name.ts";
import { database, type RecentGroup } from "./db.ts";

const KEEP = 8;

export async function rememberGroup(group: string): Promise<void> {
  if (!isValidGroupName(group)) return;
  try {
    const db = await database();
    await db.put("recent", { group, lastUsed: Date.now() });
    const all = await db.getAllFromIndex("recent", "lastUsed");
    for (const old of all.slice(0, Math.max(0, all.length - KEEP))) await db.delete("recent", old.group);
  } catch {
    // Private browsing can refuse IndexedDB; the app works without the list.
  }
}

export async function recentGroups(): Promise<RecentGroup[]> {
  try {
    const all = await (await database()).getAllFromIndex("recent", "lastUsed");
    return all.reverse();
  } catch {
    return [];
  }
}

export async function forgetRecentGroups(): Promise<void> {
  try {
    await (await database()).clear("recent");
  } catch {
    // nothing stored, nothing to forget
  }
}

export async function forgetRecentGroup(group: string): Promise<void> {
  try {
    await (await database()).delete("recent", group);
  } catch {
    // nothing stored, nothing to forget
  }
}
