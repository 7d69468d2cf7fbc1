// Schema migrations, run in order at start inside one transaction each. `PRAGMA user_version`
// holds how many have run, so a database written by an older release is brought forward and a
// newer one is refused rather than misread.
import type { Database } from "bun:sqlite";

export const MIGRATIONS: readonly string[] = [
  // 1: groups and members
  `CREATE TABLE groups (
     name TEXT PRIMARY KEY,
     kind TEXT NOT NULL CHECK (kind IN ('open', 'private')),
     join_key BLOB,
     created_by TEXT NOT NULL,
     created_at INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE members (
     group_name TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,
     id TEXT NOT NULL,
     device_key BLOB NOT NULL,
     name TEXT NOT NULL,
     first_seen INTEGER NOT NULL,
     last_seen INTEGER NOT NULL,
     PRIMARY KEY (group_name, id)
   ) STRICT;`,
  // 2: operator removals block a device key (IDENTITY.md §3), and pruning scans by last seen
  `CREATE TABLE blocked (
     group_name TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,
     device_key BLOB NOT NULL,
     blocked_at INTEGER NOT NULL,
     PRIMARY KEY (group_name, device_key)
   ) STRICT;
   CREATE INDEX members_last_seen ON members(last_seen);`,
  // 3: Web Push subscriptions of a member's device (issue #9); they go with the member
  `CREATE TABLE push_subscriptions (
     group_name TEXT NOT NULL,
     member_id TEXT NOT NULL,
     endpoint TEXT NOT NULL,
     p256dh BLOB NOT NULL,
     auth BLOB NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (group_name, member_id, endpoint),
     FOREIGN KEY (group_name, member_id) REFERENCES members(group_name, id) ON DELETE CASCADE
   ) STRICT;`,
];

export class SchemaError extends Error {}

export function migrate(db: Database, upTo = MIGRATIONS.length): number {
  const current = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
  if (current > MIGRATIONS.length) {
    throw new SchemaError(`the database was written by a newer voicesrv (schema ${current}, this one knows ${MIGRATIONS.length}); upgrade voicesrv`);
  }
  for (let v = current; v < upTo; v++) {
    db.transaction(() => {
      db.run(MIGRATIONS[v]!);
      db.run(`PRAGMA user_version = ${v + 1}`);
    })();
  }
  return Math.max(current, upTo);
}
