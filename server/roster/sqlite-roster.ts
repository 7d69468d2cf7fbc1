// The roster in SQLite through bun:sqlite (built into Bun and the compiled binary). WAL so the
// CLI can read and write while the server runs; synchronous=FULL because writes are rare
// (joins, renames, leaves) and each one must survive kill -9 and power loss alike.
import { Database } from "bun:sqlite";
import { chmodSync, existsSync } from "node:fs";
import { migrate } from "./schema.ts";
import type { GroupRecord, MemberRecord, PushSubscriptionRecord, RosterStore } from "./roster-store.ts";

export const ROSTER_FILE = "voicesrv.db";

interface GroupRow {
  name: string;
  kind: "open" | "private";
  join_key: Uint8Array | null;
  created_by: string;
  created_at: number;
}
interface MemberRow {
  group_name: string;
  id: string;
  device_key: Uint8Array;
  name: string;
  first_seen: number;
  last_seen: number;
}

const toGroup = (r: GroupRow): GroupRecord => ({ name: r.name, kind: r.kind, joinKey: r.join_key, createdBy: r.created_by, createdAt: r.created_at });
const toMember = (r: MemberRow): MemberRecord => ({ group: r.group_name, id: r.id, deviceKey: r.device_key, name: r.name, firstSeen: r.first_seen, lastSeen: r.last_seen });

export class SqliteRoster implements RosterStore {
  private readonly db: Database;

  constructor(file: string, opts: { migrateUpTo?: number } = {}) {
    const fresh = file !== ":memory:" && !existsSync(file);
    this.db = new Database(file, { create: true, strict: true });
    // Device keys and names of a family: readable by the service only.
    if (fresh) chmodSync(file, 0o600);
    this.db.run("PRAGMA journal_mode = WAL");
    this.db.run("PRAGMA synchronous = FULL");
    this.db.run("PRAGMA foreign_keys = ON");
    // The CLI and the server may write at the same moment; wait instead of failing.
    this.db.run("PRAGMA busy_timeout = 5000");
    migrate(this.db, opts.migrateUpTo);
  }

  group(name: string): GroupRecord | null {
    const r = this.db.query<GroupRow, [string]>("SELECT * FROM groups WHERE name = ?").get(name);
    return r ? toGroup(r) : null;
  }

  groups(): (GroupRecord & { members: number })[] {
    return this.db
      .query<GroupRow & { members: number }, []>("SELECT g.*, (SELECT count(*) FROM members m WHERE m.group_name = g.name) AS members FROM groups g ORDER BY g.name")
      .all()
      .map((r) => ({ ...toGroup(r), members: r.members }));
  }

  groupCount(): number {
    return this.db.query<{ n: number }, []>("SELECT count(*) AS n FROM groups").get()!.n;
  }

  createGroup(g: GroupRecord): boolean {
    const r = this.db
      .query("INSERT INTO groups (name, kind, join_key, created_by, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING")
      .run(g.name, g.kind, g.joinKey, g.createdBy, g.createdAt);
    return r.changes === 1;
  }

  deleteGroup(name: string): boolean {
    return this.db.query("DELETE FROM groups WHERE name = ?").run(name).changes === 1;
  }

  members(group: string): MemberRecord[] {
    return this.db.query<MemberRow, [string]>("SELECT * FROM members WHERE group_name = ? ORDER BY last_seen DESC").all(group).map(toMember);
  }

  member(group: string, id: string): MemberRecord | null {
    const r = this.db.query<MemberRow, [string, string]>("SELECT * FROM members WHERE group_name = ? AND id = ?").get(group, id);
    return r ? toMember(r) : null;
  }

  memberCount(group: string): number {
    return this.db.query<{ n: number }, [string]>("SELECT count(*) AS n FROM members WHERE group_name = ?").get(group)!.n;
  }

  saveMember(m: Omit<MemberRecord, "firstSeen">): MemberRecord {
    const r = this.db
      .query<MemberRow, [string, string, Uint8Array, string, number, number]>(
        `INSERT INTO members (group_name, id, device_key, name, first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(group_name, id) DO UPDATE SET name = excluded.name, last_seen = excluded.last_seen
         RETURNING *`,
      )
      .get(m.group, m.id, m.deviceKey, m.name, m.lastSeen, m.lastSeen)!;
    return toMember(r);
  }

  touch(group: string, id: string, lastSeen: number): void {
    this.db.query("UPDATE members SET last_seen = ? WHERE group_name = ? AND id = ?").run(lastSeen, group, id);
  }

  removeMember(group: string, id: string, block: boolean): boolean {
    return this.db.transaction(() => {
      const m = this.member(group, id);
      if (!m) return false;
      this.db.query("DELETE FROM members WHERE group_name = ? AND id = ?").run(group, id);
      if (block) this.db.query("INSERT OR IGNORE INTO blocked (group_name, device_key, blocked_at) VALUES (?, ?, ?)").run(group, m.deviceKey, Date.now());
      return true;
    })();
  }

  isBlocked(group: string, deviceKey: Uint8Array): boolean {
    return this.db.query("SELECT 1 FROM blocked WHERE group_name = ? AND device_key = ?").get(group, deviceKey) !== null;
  }

  pushSubscriptions(group: string, id: string): PushSubscriptionRecord[] {
    return this.db
      .query<{ endpoint: string; p256dh: Uint8Array; auth: Uint8Array; created_at: number }, [string, string]>(
        "SELECT endpoint, p256dh, auth, created_at FROM push_subscriptions WHERE group_name = ? AND member_id = ? ORDER BY created_at DESC, rowid DESC",
      )
      .all(group, id)
      .map((r) => ({ endpoint: r.endpoint, p256dh: r.p256dh, auth: r.auth, createdAt: r.created_at }));
  }

  savePushSubscription(group: string, id: string, sub: PushSubscriptionRecord, keep: number): void {
    this.db.transaction(() => {
      this.db
        .query(
          `INSERT INTO push_subscriptions (group_name, member_id, endpoint, p256dh, auth, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
           ON CONFLICT(group_name, member_id, endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth, created_at = excluded.created_at`,
        )
        .run(group, id, sub.endpoint, sub.p256dh, sub.auth, sub.createdAt);
      this.db
        .query(
          `DELETE FROM push_subscriptions WHERE group_name = ?1 AND member_id = ?2 AND endpoint NOT IN
             (SELECT endpoint FROM push_subscriptions WHERE group_name = ?1 AND member_id = ?2 ORDER BY created_at DESC, rowid DESC LIMIT ?3)`,
        )
        .run(group, id, keep);
    })();
  }

  removePushSubscriptions(group: string, id: string, endpoint?: string): number {
    if (endpoint === undefined) return this.db.query("DELETE FROM push_subscriptions WHERE group_name = ? AND member_id = ?").run(group, id).changes;
    return this.db.query("DELETE FROM push_subscriptions WHERE group_name = ? AND member_id = ? AND endpoint = ?").run(group, id, endpoint).changes;
  }

  pushableMembers(group: string): Set<string> {
    const rows = this.db.query<{ member_id: string }, [string]>("SELECT DISTINCT member_id FROM push_subscriptions WHERE group_name = ?").all(group);
    return new Set(rows.map((r) => r.member_id));
  }

  pushSubscriptionCount(): number {
    return this.db.query<{ n: number }, []>("SELECT count(*) AS n FROM push_subscriptions").get()!.n;
  }

  prune(before: number): number {
    return this.db.query("DELETE FROM members WHERE last_seen < ?").run(before).changes;
  }

  externalVersion(): number {
    return this.db.query<{ data_version: number }, []>("PRAGMA data_version").get()!.data_version;
  }

  backup(file: string): void {
    // VACUUM INTO reads one snapshot (WAL readers never block the writer), so the copy is
    // consistent while the server keeps serving, and it refuses to overwrite an existing file.
    this.db.query("VACUUM INTO ?").run(file);
  }

  close(): void {
    this.db.close();
  }
}
