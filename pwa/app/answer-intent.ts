// "Answer" tapped on a pushed ring: the service worker records which call, for how long, in this
// device's IndexedDB before it opens the app. The app answers a call only when such a record
// (or the worker's own message) names it — never because of an address, which anyone in the
// group who knows the call ID could send as a link.
import { database } from "./db.ts";

const KEY = "answer-intent";
const VALID_FOR_MS = 60_000;

interface AnswerIntent {
  callId: string;
  until: number;
}

export async function recordAnswerIntent(callId: string): Promise<void> {
  await (await database()).put("settings", { callId, until: Date.now() + VALID_FOR_MS } satisfies AnswerIntent, KEY);
}

/** The call the person chose to answer from the notification, once; null if none is pending. */
export async function takeAnswerIntent(): Promise<string | null> {
  const db = await database();
  const v = (await db.get("settings", KEY)) as AnswerIntent | undefined;
  if (!v) return null;
  await db.delete("settings", KEY);
  return typeof v.callId === "string" && Date.now() < v.until ? v.callId : null;
}
