// The message catalogue: every client → server message type, each field with how to make a
// valid value from what the fuzzing client knows (its device, the server's challenge, other
// members, its calls). The mutators in mutate.ts break these messages; nothing else in the
// fuzzer knows message shapes. To add a message type or a field, change this file only.
import { PROTOCOL_VERSION } from "../../protocol/messages.ts";
import type { TestDevice } from "../helpers/test-device.ts";

export type Rng = () => number;

/** What one fuzzing connection has learned from the server, used to build plausible messages. */
export interface Knowledge {
  myId: string | null;
  /** This socket's challenge `n`, and the valid hello signature over it (set when joining). */
  challenge: string | null;
  sig: string | null;
  /** This worker's device key `d`, and device keys of others seen in the roster. */
  d: string | null;
  keys: string[];
  /** Member IDs seen in welcome/member/status messages, including the innocent call's members. */
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
const b64url = (r: Rng, n: number) => Buffer.from(randomBytes(r, n)).toString("base64url");
const NAMES = ["Fuzz", "Oma", "José", "李雷", "Zoë 2", "A", "N".repeat(32), "  padded  ", "e\u0301", "🙂"];

const memberId: FieldSpec["valid"] = (k, r) => (k.memberIds.length && r() < 0.8 ? pick(r, k.memberIds) : randomId(r));
const callId: FieldSpec["valid"] = (k, r) => (k.callIds.length && r() < 0.8 ? pick(r, k.callIds) : hex(r, 32));
const codecs: FieldSpec["valid"] = (_k, r) => (r() < 0.5 ? ["pcmu16"] : ["opus", "pcmu16"].slice(0, 1 + Math.floor(r() * 2)));

export const CATALOGUE: readonly MessageSpec[] = [
  {
    t: "hello",
    fields: [
      { name: "v", required: true, valid: () => PROTOCOL_VERSION },
      { name: "d", required: true, valid: (k, r) => (k.d && r() < 0.7 ? k.d : k.keys.length && r() < 0.7 ? pick(r, k.keys) : b64url(r, 65)) },
      { name: "name", required: true, valid: (_k, r) => pick(r, NAMES) },
      { name: "sig", required: true, valid: (k, r) => (k.sig && r() < 0.7 ? k.sig : b64url(r, 64)) },
      { name: "proof", required: false, valid: (_k, r) => b64url(r, 32) },
      { name: "joinKey", required: false, valid: (_k, r) => b64url(r, 32) },
    ],
  },
  { t: "rename", fields: [{ name: "name", required: true, valid: (_k, r) => pick(r, NAMES) }] },
  { t: "leave", fields: [{ name: "sig", required: true, valid: (k, r) => (k.sig && r() < 0.5 ? k.sig : b64url(r, 64)) }] },
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
 * The one way a fuzzing client joins: its device's hello for the socket's challenge. The
 * innocent call joins through join.ts; both end in TestDevice.hello, the app's own hello.
 */
export async function signedHello(device: TestDevice, n: string, group: string): Promise<Record<string, unknown>> {
  return device.hello(n, group, { name: `Fuzz ${device.id}` });
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
  const addKey = (d: unknown) => {
    if (typeof d === "string" && !k.keys.includes(d)) k.keys.push(d);
    if (k.keys.length > 32) k.keys.shift();
  };
  switch (m.t) {
    case "challenge":
      k.challenge = typeof m.n === "string" ? m.n : null;
      break;
    case "welcome":
      k.myId = m.id;
      for (const x of m.members ?? []) {
        addId(x.id);
        addKey(x.d);
      }
      break;
    case "member":
      addId(m.member?.id);
      addKey(m.member?.d);
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
