// Verified contacts (IDENTITY.md §6), on this device only: the device keys this person checked
// by reading the symbols aloud ("They match"). "Verified" comes only from here — never from
// anything the server says.
import { base64urlEncode } from "../../protocol/base64url.ts";
import { database, type StoredContact } from "./db.ts";

export type Contact = StoredContact;

/** What the call controller needs; the app uses IndexedDB, tests a map. */
export interface ContactBook {
  byKey(d: Uint8Array): Promise<Contact | null>;
  /** Contacts saved under this name (to notice a known person on a new phone). */
  named(name: string): Promise<Contact[]>;
  verify(d: Uint8Array, name: string): Promise<void>;
}

const norm = (n: string) => n.normalize("NFC").toLocaleLowerCase();

export const deviceContacts: ContactBook & {
  all(): Promise<Contact[]>;
  rename(d: string, name: string): Promise<void>;
  forget(d: string): Promise<void>;
} = {
  async byKey(d) {
    try {
      return (await (await database()).get("contacts", base64urlEncode(d))) ?? null;
    } catch {
      return null;
    }
  },
  async named(name) {
    try {
      return (await (await database()).getAll("contacts")).filter((c) => norm(c.name) === norm(name));
    } catch {
      return [];
    }
  },
  async verify(d, name) {
    await (await database()).put("contacts", { d: base64urlEncode(d), name, verifiedAt: Date.now() });
  },
  async all() {
    try {
      return (await (await database()).getAll("contacts")).sort((a, b) => a.name.localeCompare(b.name));
    } catch {
      return [];
    }
  },
  async rename(d, name) {
    const db = await database();
    const c = await db.get("contacts", d);
    if (c) await db.put("contacts", { ...c, name });
  },
  async forget(d) {
    await (await database()).delete("contacts", d);
  },
};
