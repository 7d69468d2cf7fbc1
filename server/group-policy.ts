// Which groups the server accepts (config `groups`):
// - "open": any URL is a group (the name is enough), and apps may create private groups.
// - "private": apps may create private groups; URL-only groups are refused.
// - "operator": only groups the operator created with `voicesrv group create`.
// Groups the operator created are always accepted, open or private.
import type { GroupKind, GroupRecord } from "./roster/roster-store.ts";

export const GROUP_POLICIES = ["open", "private", "operator"] as const;
export type GroupPolicyName = (typeof GROUP_POLICIES)[number];

export const OPERATOR = "operator";

/** What each mode means, in the words install and status print. */
export const GROUP_POLICY_TEXT: Record<GroupPolicyName, string> = {
  open: "any group URL works, and people can make private groups in the app",
  private: "only private groups (made in the app or with `voicesrv group create`); plain group URLs are refused",
  operator: "only groups made with `voicesrv group create`",
};

export class GroupPolicy {
  constructor(readonly name: GroupPolicyName) {}

  appMayCreate(kind: GroupKind): boolean {
    if (this.name === "operator") return false;
    return kind === "private" || this.name === "open";
  }

  openGroupAllowed(g: GroupRecord): boolean {
    return this.name === "open" || g.createdBy === OPERATOR;
  }
}
