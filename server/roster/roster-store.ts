// What the server remembers about people (IDENTITY.md §4, DESIGN.md "Scaling"): groups and
// their members' device keys, names and last-seen times. Nothing about calls or audio. One
// small interface so that SQLite on one box can later be PostgreSQL behind several.

export type GroupKind = "open" | "private";

export interface GroupRecord {
  name: string;
  kind: GroupKind;
  /** HKDF(G, "join") for private groups; never G itself, never psk. */
  joinKey: Uint8Array | null;
  /** "operator" for the CLI, otherwise the creating member's ID. */
  createdBy: string;
  createdAt: number;
}

export interface MemberRecord {
  group: string;
  id: string;
  deviceKey: Uint8Array;
  name: string;
  firstSeen: number;
  lastSeen: number;
}

/** A browser's push subscription (RFC 8030/8291): where to send and whom to encrypt to. */
export interface PushSubscriptionRecord {
  endpoint: string;
  /** The user agent's P-256 public key (65 bytes) and auth secret (16 bytes). */
  p256dh: Uint8Array;
  auth: Uint8Array;
  createdAt: number;
}

export interface RosterStore {
  group(name: string): GroupRecord | null;
  groups(): (GroupRecord & { members: number })[];
  groupCount(): number;
  /** False when a group of that name exists already. */
  createGroup(g: GroupRecord): boolean;
  deleteGroup(name: string): boolean;
  members(group: string): MemberRecord[];
  member(group: string, id: string): MemberRecord | null;
  memberCount(group: string): number;
  /** Inserts or updates name and last seen; first seen is kept. */
  saveMember(m: Omit<MemberRecord, "firstSeen">): MemberRecord;
  touch(group: string, id: string, lastSeen: number): void;
  /** Removes a member; with block, that device key can never join this group again. */
  removeMember(group: string, id: string, block: boolean): boolean;
  isBlocked(group: string, deviceKey: Uint8Array): boolean;
  /** A member's device subscriptions, newest first. */
  pushSubscriptions(group: string, id: string): PushSubscriptionRecord[];
  /** Adds or refreshes one; a member keeps at most `keep` (the oldest go). */
  savePushSubscription(group: string, id: string, sub: PushSubscriptionRecord, keep: number): void;
  /** One endpoint, or with no endpoint all of the member's; returns how many went. */
  removePushSubscriptions(group: string, id: string, endpoint?: string): number;
  pushSubscriptionCount(): number;
  /** IDs of the group's members with at least one subscription. */
  pushableMembers(group: string): Set<string>;
  /** Deletes members not seen since `before`; returns how many. */
  prune(before: number): number;
  /** Changes whenever another process (the CLI) committed to the database. */
  externalVersion(): number;
  /** A consistent copy, taken while the server keeps serving. */
  backup(file: string): void;
  close(): void;
}
