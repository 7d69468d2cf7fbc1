// Where the roster lives: one SQLite file in the data directory, beside the certificate.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { SchemaError } from "./schema.ts";
import { ROSTER_FILE, SqliteRoster } from "./sqlite-roster.ts";
import type { RosterStore } from "./roster-store.ts";

export class RosterOpenError extends Error {}

export function rosterPath(dataDir: string): string {
  return join(dataDir, ROSTER_FILE);
}

/** mustExist: for readers (the CLI's list commands), which should not create an empty database. */
export function openRoster(dataDir: string, opts: { mustExist?: boolean } = {}): RosterStore {
  const file = rosterPath(dataDir);
  if (opts.mustExist && !existsSync(file)) throw new RosterOpenError(`no member database at ${file} yet: the server creates it when it first starts`);
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o750 });
    return new SqliteRoster(file);
  } catch (e) {
    if (e instanceof SchemaError) throw new RosterOpenError(`${file}: ${e.message}`);
    throw new RosterOpenError(`cannot open the member database ${file}: ${(e as Error).message}`);
  }
}
