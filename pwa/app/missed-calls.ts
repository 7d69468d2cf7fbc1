// Calls that rang this device and were not answered: written by the service worker (a missed-call
// push while the app was closed) and by the app (an incoming call that stopped ringing), listed
// on the group screen with "Call back" until dismissed. Only on this device.
import { database, type StoredMissedCall } from "./db.ts";

/** More than a screenful of missed calls helps nobody; the oldest go. */
const KEEP_PER_GROUP = 10;

export type MissedCall = StoredMissedCall;

export async function recordMissedCall(m: MissedCall): Promise<void> {
  const db = await database();
  const tx = db.transaction("missed", "readwrite");
  // The push and the app can both see the same call end: one entry per callId.
  await tx.store.put(m);
  const all = await tx.store.index("group").getAll(m.group);
  all.sort((a, b) => b.at - a.at);
  for (const old of all.slice(KEEP_PER_GROUP)) await tx.store.delete(old.callId);
  await tx.done;
}

export async function missedCalls(group: string): Promise<MissedCall[]> {
  const all = await (await database()).getAllFromIndex("missed", "group", group);
  return all.sort((a, b) => b.at - a.at);
}

export async function dismissMissedCall(callId: string): Promise<void> {
  await (await database()).delete("missed", callId);
}
