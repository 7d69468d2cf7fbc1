// The message catalogue: every client → server message type, each field with how to make a
// valid value from what the fuzzing client knows (its ID, other members, its calls). The
// mutators in mutate.ts break these messages; nothing else in the fuzzer knows message shapes.
// To add a message type or a field (hello v2: challenge, signature, …), change this file only.
import { PROTOCOL_VERSION } from "../../protocol/messages.ts";

export type Rng = () => number;

/** What one fuzzing connection has learned from the server, used to build plausible messages. */
export interface Knowledge {
  myId: string | null;
  token: string | null;
  /** Member IDs seen in welcome/joined/status messages, including the innocent call's members. */
  memberIds: string[];
  /** Call IDs seen in outgoing/incoming/connected/ended. */
  callIds: string[];
  /** Call handles from `connected` messages (this connection's calls). */
  callHandles: number[];
}

export interface FieldSpec {
  name: string;
  required: boolean;
  valid(k: Knowledge, r: Rng): unknown;
}

export interface MessageSpec {
  t: string;
  fields: FieldSpec[];
}

export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

export function randomBytes(r: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

const hex = (r: Rng, n: number) => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join("");
const ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const randomId = (r: Rng) => Array.from({ length: 6 }, () => pick(r, [...ID_CHARS])).join("");
const TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

const memberId: FieldSpec["valid"] = (k, r) => (k.memberIds.length && r() < 0.8 ? pick(r, k.memberIds) : randomId(r));
const callId: FieldSpec["valid"] = (k, r) => (k.callIds.length && r() < 0.8 ? pick(r, k.callIds) : hex(r, 32));
const codecs: FieldSpec["valid"] = (_k, r) => (r() < 0.5 ? ["pcmu16"] : ["opus", "pcmu16"].slice(0, 1 + Math.floor(r() * 2)));

export const CATALOGUE: readonly MessageSpec[] = [
  {
    t: "hello",
    fields: [
      { name: "v", required: true, valid: () => PROTOCOL_VERSION },
      { name: "resume", required: false, valid: (k, r) => k.token ?? Array.from({ length: 32 }, () => pick(r, [...TOKEN_CHARS])).join("") },
    ],
  },
  { t: "call", fields: [{ name: "to", required: true, valid: memberId }, { name: "codecs", required: false, valid: codecs }] },
  { t: "answer", fields: [{ name: "callId", required: true, valid: callId }, { name: "codecs", required: false, valid: codecs }] },
  { t: "reject", fields: [{ name: "callId", required: true, valid: callId }] },
  { t: "cancel", fields: [{ name: "callId", required: true, valid: callId }] },
  { t: "hangup", fields: [{ name: "callId", required: true, valid: callId }] },
  {
    t: "kx",
    fields: [
      { name: "callId", required: true, valid: callId },
      { name: "body", required: true, valid: (_k, r) => Buffer.from(randomBytes(r, 1 + Math.floor(r() * 200))).toString("base64") },
    ],
  },
  { t: "ping", fields: [] },
];

/** A valid message of `spec` (optional fields present about half the time). */
export function validMessage(spec: MessageSpec, k: Knowledge, r: Rng): Record<string, unknown> {
  const m: Record<string, unknown> = { t: spec.t };
  for (const f of spec.fields) if (f.required || r() < 0.5) m[f.name] = f.valid(k, r);
  return m;
}

/**
 * The one way to join a group: the first message a client sends. The innocent call and the
 * fuzzing clients that want to get past "hello-required" both use it; a new hello shape
 * (challenge/signature) changes here and in join.ts.
 */
export function helloMessage(): Record<string, unknown> {
  return { t: "hello", v: PROTOCOL_VERSION };
}

/** Learns from one server message what later messages can refer to. */
export function learn(k: Knowledge, m: Record<string, any>): void {
  const addId = (id: unknown) => {
    if (typeof id === "string" && !k.memberIds.includes(id)) k.memberIds.push(id);
    if (k.memberIds.length > 64) k.memberIds.shift();
  };
  const addCall = (id: unknown) => {
    if (typeof id === "string" && !k.callIds.includes(id)) k.callIds.push(id);
    if (k.callIds.length > 32) k.callIds.shift();
  };
  switch (m.t) {
    case "welcome":
      k.myId = m.id;
      k.token = m.token;
      for (const x of m.members ?? []) addId(x.id);
      break;
    case "joined":
      addId(m.member?.id);
      break;
    case "status":
      addId(m.id);
      break;
    case "incoming":
    case "outgoing":
    case "ended":
      addCall(m.callId);
      break;
    case "connected":
      addCall(m.callId);
      if (typeof m.callHandle === "number" && !k.callHandles.includes(m.callHandle)) k.callHandles.push(m.callHandle);
      if (k.callHandles.length > 8) k.callHandles.shift();
      break;
  }
}
