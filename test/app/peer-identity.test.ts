// IDENTITY.md §6 verdicts from this device's own records, with an in-memory contact book that
// counts its reads (the real one is IndexedDB; the call controller's tests drive this through
// the whole key exchange).
import { describe, expect, test } from "vitest";
import type { ContactBook } from "../../pwa/app/contacts.ts";
import { judgePeer, readPeerRecords, type RosterEntry } from "../../pwa/app/peer-identity.ts";

const key = (n: number) => {
  const d = new Uint8Array(65);
  d[0] = 4;
  d[1] = n;
  return d;
};
const b64 = (d: Uint8Array) => Buffer.from(d).toString("base64url");

function book(verified: { d: Uint8Array; name: string }[]): ContactBook & { reads: string[] } {
  const reads: string[] = [];
  const stored = verified.map((c) => ({ d: b64(c.d), name: c.name, verifiedAt: 1 }));
  return {
    reads,
    byKey: async (d: Uint8Array) => (reads.push("byKey"), stored.find((c) => c.d === b64(d)) ?? null),
    named: async (name: string) => (reads.push("named"), stored.filter((c) => c.name === name)),
    verify: async () => {},
  };
}

const bea: RosterEntry = { d: b64(key(1)), name: "Bea" };

describe("judgePeer", () => {
  test.each([
    ["the roster's key, a verified contact", [{ d: key(1), name: "Bea" }], bea, key(1), { verification: "verified", contactName: "Bea" }],
    ["the roster names a verified contact, another key is proven", [{ d: key(1), name: "Bea" }], bea, key(2), { verification: "intercepted", contactName: "Bea" }],
    ["a verified contact of that name, a new key in the roster and the proof", [{ d: key(1), name: "Bea" }], { d: b64(key(2)), name: "Bea" }, key(2), { verification: "key-changed", contactName: null }],
    ["nobody verified", [], bea, key(1), { verification: "unverified", contactName: null }],
    ["not in the roster, but the proven key is a verified contact", [{ d: key(3), name: "Cy" }], undefined, key(3), { verification: "verified", contactName: "Cy" }],
  ])("%s", async (_, verified, entry, D, verdict) => {
    const contacts = book(verified as { d: Uint8Array; name: string }[]);
    expect(await judgePeer(entry as RosterEntry | undefined, D as Uint8Array, contacts, readPeerRecords(entry as RosterEntry | undefined, contacts))).toEqual(verdict);
  });

  test("records read beforehand are used: nothing is read after the proof when it is the roster's key", async () => {
    const contacts = book([{ d: key(1), name: "Bea" }]);
    const read = readPeerRecords(bea, contacts);
    await read;
    expect(contacts.reads).toEqual(["byKey", "named"]);
    await judgePeer(bea, key(1), contacts, read);
    expect(contacts.reads).toHaveLength(2);
  });

  test("a roster entry that changed since the read (another key, or another name) is read again", async () => {
    const contacts = book([{ d: key(1), name: "Bea" }]);
    const read = readPeerRecords(bea, contacts);
    // Judged from the old entry this would be an interception.
    expect(await judgePeer({ d: b64(key(2)), name: "Bea" }, key(2), contacts, read)).toEqual({ verification: "key-changed", contactName: null });
    const renamed = readPeerRecords({ d: b64(key(2)), name: "Bee" }, contacts);
    expect(await judgePeer({ d: b64(key(2)), name: "Bea" }, key(2), contacts, renamed)).toEqual({ verification: "key-changed", contactName: null });
  });

  test("contacts that cannot be read make the verdict fail, never 'unverified'", async () => {
    const contacts = { ...book([]), named: async () => Promise.reject(new Error("storage failed")) };
    await expect(judgePeer(bea, key(1), contacts, null)).rejects.toThrow("storage failed");
  });
});
