// JSON control messages on the WebSocket. Every client message is validated here — by the
// server before it acts, and by tests — so a malformed message gets a stable error code
// instead of reaching the call state machine.
import { base64urlBytes } from "./base64url.ts";
import { checkName } from "./display-name.ts";
import { DEVICE_KEY_BYTES, JOIN_KEY_BYTES, PROOF_BYTES, SIGNATURE_BYTES } from "./identity-v2.ts";
import { isMemberId } from "./member-id.ts";

/** v2 (IDENTITY.md): members are device keys with names; v1 hellos are told to update. */
export const PROTOCOL_VERSION = 2;

export type MemberStatus = "available" | "ringing" | "in-call";
export type CallRole = "initiator" | "responder";
export type EndReason =
  | "declined"
  | "cancelled"
  | "no-answer"
  | "busy"
  | "unavailable"
  | "hangup"
  | "peer-gone"
  | "server-shutdown";

/** A person in the group's roster, online or not (IDENTITY.md §4). */
export interface MemberInfo {
  id: string;
  /** Device public key, base64url of the 65-byte point: the app checks id = H(d) itself. */
  d: string;
  name: string;
  online: boolean;
  status: MemberStatus;
  /** Epoch ms the member was last connected (now-ish while online). */
  lastSeen: number;
  /** Offline but their phone can be rung by Web Push (issue #9). */
  ringable?: boolean;
}

export type ByeReason = "shutdown" | "replaced" | "removed" | "group-deleted";

// ---- client → server --------------------------------------------------------------------
export type ClientMessage =
  | { t: "hello"; v: 2; d: string; name: string; sig: string; proof?: string; joinKey?: string }
  | { t: "rename"; name: string }
  | { t: "leave"; sig: string }
  | { t: "call"; to: string; codecs?: string[] }
  | { t: "answer"; callId: string; codecs?: string[] }
  | { t: "reject"; callId: string }
  | { t: "cancel"; callId: string }
  | { t: "hangup"; callId: string }
  | { t: "kx"; callId: string; body: string }
  /** Ring this device by Web Push while its app is closed (issue #9). */
  | { t: "push-subscribe"; sub: PushSubscriptionInfo }
  | { t: "push-unsubscribe" }
  | { t: "ping" };

/** What PushSubscription.toJSON() gives, minus expirationTime: the endpoint and the RFC 8291 keys. */
export interface PushSubscriptionInfo {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

// ---- server → client --------------------------------------------------------------------
export interface WelcomeLimits {
  ringTimeoutMs: number;
  keyExchangeTimeoutMs: number;
  maxFrameBytes: number;
  maxTextBytes: number;
  mediaFramesPerSecond: number;
  maxKxBodyChars: number;
  /** How long a call to someone rung by push waits (the caller's app waits as long). */
  pushRingTimeoutMs?: number;
}

export type ServerMessage =
  | { t: "challenge"; n: string }
  | {
      t: "welcome";
      v: number;
      id: string;
      group: string;
      /** Private groups need the invite secret; the app keeps it, the server only its joinKey. */
      private: boolean;
      resumed: boolean;
      /** Everyone else in the roster, online first. */
      members: MemberInfo[];
      limits: WelcomeLimits;
      version: string;
      /** Present when this server can ring closed apps: its VAPID public key (base64url). */
      push?: { key: string };
    }
  /** A roster entry appeared or changed (came online, went offline, renamed). */
  | { t: "member"; member: MemberInfo }
  /** Left the group or was removed by the operator: gone from the roster. */
  | { t: "removed"; id: string }
  | { t: "status"; id: string; status: MemberStatus }
  /** pushed: the person is not connected and their phone is being rung by Web Push. */
  | { t: "outgoing"; callId: string; to: string; pushed?: boolean }
  | { t: "incoming"; callId: string; from: string; codecs: string[] }
  | { t: "connected"; callId: string; callHandle: number; role: CallRole; peer: string; peerCodecs: string[] }
  | { t: "ended"; callId: string; reason: EndReason; by?: string }
  | { t: "kx"; callId: string; body: string }
  | { t: "peer-away"; callId: string }
  | { t: "peer-back"; callId: string }
  | { t: "push-subscribed" }
  | { t: "pong" }
  | { t: "bye"; reason: ByeReason }
  | { t: "error"; code: ErrorCode; message: string; ref?: string };

export type ErrorCode =
  | "bad-json"
  | "bad-message"
  | "unknown-type"
  | "too-large"
  | "rate-limited"
  | "hello-required"
  | "already-hello"
  | "upgrade-required"
  | "bad-signature"
  | "bad-name"
  | "not-invited"
  | "id-taken"
  | "removed"
  | "group-exists"
  | "too-many-groups"
  | "group-full"
  | "not-found"
  | "self-call"
  | "already-in-call"
  | "no-such-call"
  | "not-allowed"
  | "bad-frame"
  | "bad-push-endpoint"
  | "push-unavailable";

export const CALL_ID_RE = /^[0-9a-f]{32}$/;
const CODEC_RE = /^[a-z0-9-]{1,16}$/;

export class MessageError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly ref?: string,
  ) {
    super(message);
    this.name = "MessageError";
  }
}

type Obj = Record<string, unknown>;

function fail(message: string, ref?: string): never {
  throw new MessageError("bad-message", message, ref);
}

/** Client-supplied names echoed in an error are cut, so a reply never carries kilobytes of input. */
const MAX_ECHOED_NAME = 32;

function echo(name: string): string {
  return name.length > MAX_ECHOED_NAME ? `${name.slice(0, MAX_ECHOED_NAME)}…` : name;
}

function onlyKeys(m: Obj, allowed: string[], t: string): void {
  for (const k of Object.keys(m)) if (!allowed.includes(k)) fail(`unexpected field "${echo(k)}" in ${t}`, t);
}

function bytesField(m: Obj, k: string, bytes: number, t: string, optional = false): string | undefined {
  const v = m[k];
  if (v === undefined && optional) return undefined;
  if (base64urlBytes(v, bytes) === null) fail(`${t}.${k} must be ${bytes} bytes in base64url`, t);
  return v as string;
}

function callId(m: Obj, t: string): string {
  if (typeof m.callId !== "string" || !CALL_ID_RE.test(m.callId)) fail(`${t} needs callId: 32 hex characters`, t);
  return m.callId;
}

function codecs(m: Obj, t: string): string[] | undefined {
  if (m.codecs === undefined) return undefined;
  if (!Array.isArray(m.codecs) || m.codecs.length === 0 || m.codecs.length > 4 || !m.codecs.every((c) => typeof c === "string" && CODEC_RE.test(c)))
    fail(`${t}.codecs must be 1–4 codec names`, t);
  return m.codecs as string[];
}

/** Longest endpoint accepted: real ones are 150–500 characters. */
export const MAX_PUSH_ENDPOINT_CHARS = 1024;

/** Shape only; which hosts may be pushed to is the server's allow-list (server/push). */
function pushSubscriptionInfo(v: unknown): PushSubscriptionInfo {
  const t = "push-subscribe";
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail("push-subscribe.sub must be an object {endpoint, keys}", t);
  const sub = v as Obj;
  for (const k of Object.keys(sub)) if (k !== "endpoint" && k !== "keys" && k !== "expirationTime") fail(`unexpected field "${echo(k)}" in push-subscribe.sub`, t);
  if (typeof sub.endpoint !== "string" || sub.endpoint.length === 0 || sub.endpoint.length > MAX_PUSH_ENDPOINT_CHARS) {
    throw new MessageError("bad-push-endpoint", `push-subscribe.sub.endpoint must be a URL of at most ${MAX_PUSH_ENDPOINT_CHARS} characters`, t);
  }
  const keys = sub.keys;
  if (typeof keys !== "object" || keys === null || Array.isArray(keys)) fail("push-subscribe.sub.keys must be {p256dh, auth}", t);
  const k = keys as Obj;
  onlyKeys(k, ["p256dh", "auth"], t);
  const p256dh = bytesField(k, "p256dh", 65, "push-subscribe.sub.keys")!;
  const auth = bytesField(k, "auth", 16, "push-subscribe.sub.keys")!;
  return { endpoint: sub.endpoint, keys: { p256dh, auth } };
}

/** Parses one text frame. Throws MessageError with a stable code; never anything else. */
export function parseClientMessage(text: string, maxKxBodyChars: number): ClientMessage {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    throw new MessageError("bad-json", "message is not valid JSON");
  }
  if (typeof m !== "object" || m === null || Array.isArray(m)) fail("message must be a JSON object");
  const o = m as Obj;
  const t = o.t;
  if (typeof t !== "string") fail('message needs a string field "t"');
  switch (t) {
    case "hello": {
      if (o.v !== PROTOCOL_VERSION) {
        throw new MessageError("upgrade-required", `this server speaks protocol v${PROTOCOL_VERSION}: reload the app to update it`, t);
      }
      onlyKeys(o, ["t", "v", "d", "name", "sig", "proof", "joinKey"], t);
      const d = bytesField(o, "d", DEVICE_KEY_BYTES, t)!;
      const sig = bytesField(o, "sig", SIGNATURE_BYTES, t)!;
      const proof = bytesField(o, "proof", PROOF_BYTES, t, true);
      const joinKey = bytesField(o, "joinKey", JOIN_KEY_BYTES, t, true);
      const name = checkName(o.name);
      if (!name.ok) throw new MessageError("bad-name", `hello.name: ${name.message}`, t);
      return { t, v: PROTOCOL_VERSION, d, name: name.name, sig, ...(proof ? { proof } : {}), ...(joinKey ? { joinKey } : {}) };
    }
    case "rename": {
      onlyKeys(o, ["t", "name"], t);
      const name = checkName(o.name);
      if (!name.ok) throw new MessageError("bad-name", `rename.name: ${name.message}`, t);
      return { t, name: name.name };
    }
    case "leave":
      onlyKeys(o, ["t", "sig"], t);
      return { t, sig: bytesField(o, "sig", SIGNATURE_BYTES, t)! };
    case "call": {
      onlyKeys(o, ["t", "to", "codecs"], t);
      if (!isMemberId(o.to)) fail("call.to must be a 6-character member ID", t);
      const c = codecs(o, t);
      return c ? { t, to: o.to, codecs: c } : { t, to: o.to };
    }
    case "answer": {
      onlyKeys(o, ["t", "callId", "codecs"], t);
      const id = callId(o, t);
      const c = codecs(o, t);
      return c ? { t, callId: id, codecs: c } : { t, callId: id };
    }
    case "reject":
    case "cancel":
    case "hangup":
      onlyKeys(o, ["t", "callId"], t);
      return { t, callId: callId(o, t) };
    case "kx": {
      onlyKeys(o, ["t", "callId", "body"], t);
      const id = callId(o, t);
      if (typeof o.body !== "string" || o.body.length === 0) fail("kx.body must be a non-empty string", t);
      if (o.body.length > maxKxBodyChars) throw new MessageError("too-large", `kx.body exceeds ${maxKxBodyChars} characters`, t);
      return { t, callId: id, body: o.body };
    }
    case "push-subscribe":
      onlyKeys(o, ["t", "sub"], t);
      return { t, sub: pushSubscriptionInfo(o.sub) };
    case "push-unsubscribe":
    case "ping":
      onlyKeys(o, ["t"], t);
      return { t };
    default:
      throw new MessageError("unknown-type", `unknown message type "${echo(t)}"`);
  }
}

/** Lenient parse for the app: unknown server messages are ignored, not fatal (forward compatibility). */
export function parseServerMessage(text: string): ServerMessage | null {
  try {
    const m = JSON.parse(text);
    return m && typeof m === "object" && typeof m.t === "string" ? (m as ServerMessage) : null;
  } catch {
    return null;
  }
}
