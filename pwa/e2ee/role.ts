// PROTOCOL.md §1: the server tells each side which role it has; the role names are also the
// HMAC messages of §4, so they are protocol constants.
export type Role = "initiator" | "responder";

export function peerRole(role: Role): Role {
  return role === "initiator" ? "responder" : "initiator";
}
