// The app's only persistent storage: settings and recently used groups, on this device only.
// Nothing about calls is stored.
import { openDB, type DBSchema, type IDBPDatabase } from "idb";

export interface RecentGroup {
  group: string;
  lastUsed: number;
}

interface Schema extends DBSchema {
  settings: { key: string; value: unknown };
  recent: { key: string; value: RecentGroup; indexes: { lastUsed: number } };
}

let db: Promise<IDBPDatabase<Schema>> | null = null;

export function database(): Promise<IDBPDatabase<Schema>> {
  db ??= openDB<Schema>("voicesrv", 1, {
    upgrade(d) {
      d.createObjectStore("settings");
      d.createObjectStore("recent", { keyPath: "group" }).createIndex("lastUsed", "lastUsed");
    },
  });
  return db;
}
