// The app's only persistent storage, on this device only: settings, recently used groups, this
// device's key pair (IDENTITY.md §1: the private key is a non-extractable CryptoKey, which
// IndexedDB stores without ever exposing its bytes) and the secrets of private groups it
// joined (§3). Never localStorage: it holds strings only and is readable by any script.
// About calls, only the missed ones (who, when) until seen.
import { openDB, type DBSchema, type IDBPDatabase } from "idb";

export interface RecentGroup {
  group: string;
  lastUsed: number;
}

export interface StoredIdentity {
  keys: CryptoKeyPair;
  /** The 65-byte public point D. */
  publicKey: Uint8Array;
  createdAt: number;
}

export interface StoredGroupSecret {
  group: string;
  /** G, 16 bytes, from the invite link's fragment. */
  secret: Uint8Array;
  /** This device made the group and has not yet seen the server accept it. */
  creating: boolean;
}

/** A verified contact (IDENTITY.md §6): a device key this person confirmed by the symbols. */
export interface StoredContact {
  /** base64url of the device point D. */
  d: string;
  /** The name this device gave the contact (the roster's name when verified; renamable). */
  name: string;
  verifiedAt: number;
}

/** A call that rang this device and was not answered (issue #9); the newest few per group. */
export interface StoredMissedCall {
  callId: string;
  group: string;
  /** The caller's name as the server gave it, and member ID for "Call back". */
  name: string;
  from: string;
  at: number;
}

interface Schema extends DBSchema {
  missed: { key: string; value: StoredMissedCall; indexes: { group: string } };
  contacts: { key: string; value: StoredContact };
  settings: { key: string; value: unknown };
  recent: { key: string; value: RecentGroup; indexes: { lastUsed: number } };
  identity: { key: string; value: StoredIdentity };
  groupSecrets: { key: string; value: StoredGroupSecret };
}

let db: Promise<IDBPDatabase<Schema>> | null = null;

export function database(): Promise<IDBPDatabase<Schema>> {
  db ??= openDB<Schema>("voicesrv", 4, {
    // A newer version of the app (another tab, the service worker) wants to upgrade: let it,
    // and reopen on next use, rather than block it (a blocked worker would show no notification).
    blocking(_current, _next, event) {
      (event.target as IDBDatabase).close();
      db = null;
    },
    upgrade(d, oldVersion) {
      if (oldVersion < 1) {
        d.createObjectStore("settings");
        d.createObjectStore("recent", { keyPath: "group" }).createIndex("lastUsed", "lastUsed");
      }
      if (oldVersion < 2) {
        d.createObjectStore("identity");
        d.createObjectStore("groupSecrets", { keyPath: "group" });
      }
      if (oldVersion < 3) d.createObjectStore("contacts", { keyPath: "d" });
      if (oldVersion < 4) d.createObjectStore("missed", { keyPath: "callId" }).createIndex("group", "group");
    },
  });
  return db;
}
