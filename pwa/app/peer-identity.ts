// Who is on the other end of a call, by this device's own records (IDENTITY.md §6): the key the
// peer proved in the key exchange against this device's verified contacts and the key the roster
// lists for that member. Nothing the server sends can make anyone "verified" here.
//
// The records are read in two steps so that storage is not read between the confirmation and
// the first words: readPeerRecords() when the server says `connected` (the roster's key and name
// are known then), judgePeer() once the proven key is known. Under load the reads took up to
// ~280 ms (bench:first-seconds, BENCHMARKS.md 2026-12-02).
import { base64urlDecode } from "../../protocol/base64url.ts";
import { constantTimeEqual as sameBytes } from "../e2ee/bytes.ts";
import type { Contact, ContactBook } from "./contacts.ts";

export type Verification = "verified" | "unverified" | "key-changed" | "intercepted";

/** A member as the roster lists it: its device key (base64url) and name. */
export interface RosterEntry {
  d: string;
  name: string;
}

/** What this device's contacts say of the person a roster entry names. */
export interface PeerRecords {
  /** The roster entry as read ("<key> <name>"), to notice a change before the records are used. */
  entry: string | null;
  rosterD: Uint8Array | null;
  byRoster: Contact | null;
  sameName: Contact[];
}

const entryOf = (e: RosterEntry | undefined) => (e ? `${e.d} ${e.name}` : null);

export async function readPeerRecords(entry: RosterEntry | undefined, contacts: ContactBook): Promise<PeerRecords> {
  const rosterD = entry ? base64urlDecode(entry.d) : null;
  const [byRoster, sameName] = await Promise.all([rosterD ? contacts.byKey(rosterD) : Promise.resolve(null), entry ? contacts.named(entry.name) : Promise.resolve([])]);
  return { entry: entryOf(entry), rosterD, byRoster, sameName };
}

/**
 * The verdict on proven key `D` for the member whose roster entry is `entry` now; `read` are
 * the records read earlier, used unless the entry changed since (another phone, a new name).
 * Rejects if the contacts cannot be read.
 */
export async function judgePeer(entry: RosterEntry | undefined, D: Uint8Array, contacts: ContactBook, read: Promise<PeerRecords> | null): Promise<{ verification: Verification; contactName: string | null }> {
  let r = read ? await read : null;
  if (!r || r.entry !== entryOf(entry)) r = await readPeerRecords(entry, contacts);
  const { rosterD, byRoster, sameName } = r;
  // The roster names a verified contact, but another phone proved itself.
  if (byRoster && rosterD && !sameBytes(rosterD, D)) return { verification: "intercepted", contactName: byRoster.name };
  // The proven key is nearly always the roster's: then its record is already at hand.
  const byProof = rosterD && sameBytes(rosterD, D) ? byRoster : await contacts.byKey(D);
  if (byProof) return { verification: "verified", contactName: byProof.name };
  // A verified contact has this name but another key: a new phone or a reinstalled app.
  return { verification: sameName.length > 0 ? "key-changed" : "unverified", contactName: null };
}
