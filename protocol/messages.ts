// JSON control messages on the WebSocket. Every client message is validated here — by the
// server before it acts, and by tests — so a malformed message gets a stable error code
// instead of reaching the call state machine.
import { isMemberId } from "./member-id.ts";

export const PROTOCOL_VERSION = 1;

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

export interface MemberInfo {
  id: string;
  status: MemberStatus;
}

// ---- client → server --------------------------------------------------------------------
export type ClientMessage =
  | { t: "hello"; v: number; resume?: string }
  | { t: "call"; to: string; codecs?: string[] }
  | { t: "answer"; callId: string; codecs?: string[] }
  | { t: "reject"; callId: string }
  | { t: "cancel"; callId: string }
  | { t: "hangup"; callId: string }
  | { t: "kx"; callId: string; body: string }
  | { t: "ping" };

// ---- server → client --------------------------------------------------------------------
export interface WelcomeLimits {
  ringTimeoutMs: number;
  keyExchangeTimeoutMs: number;
  maxFrameBytes: number;
  maxTextBytes: number;
  mediaFramesPerSecond: number;
  maxKxBodyChars: number;
}

export type ServerMessage =
  | {
      t: "welcome";
      v: number;
      id: string;
      group: string;
      token: string;
      resumed: boolean;
      members: MemberInfo[];
      limits: WelcomeLimits;
      version: string;
    }
  | { t: "joined"; member: MemberInfo }
  | { t: "left"; id: string }
  | { t: "status"; id: string; status: MemberStatus }
  | { t: "outgoing"; callId: string; to: string }
  | { t: "incoming"; callId: string; from: string; codecs: string[] }
  | { t: "connected"; callId: string; callHandle: number; role: CallRole; peer: string; peerCodecs: string[] }
  | { t: "ended"; callId: string; reason: EndReason; by?: string }
  | { t: "kx"; callId: string; body: string }
  | { t: "peer-away"; callId: string }
  | { t: "peer-back"; callId: string }
  | { t: "pong" }
  | { t: "bye"; reason: "shutdown" }
  | { t: "error"; code: ErrorCode; message: string; ref?: string };

export type ErrorCode =
  | "bad-json"
  | "bad-message"
  | "unknown-type"
  | "too-large"
  | "rate-limited"
  | "hello-required"
  | "already-hello"
  | "bad-resume"
  | "group-full"
  | "not-found"
  | "self-call"
  | "already-in-call"
  | "no-such-call"
  | "not-allowed"
  | "bad-frame";

export const CALL_ID_RE = /^[0-9a-f]{32}$/;
const CODEC_RE = /^[a-z0-9-]{1,16}$/;
const TOKEN_RE = /^[A-Za-z0-9_-]{20,64}$/;

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

function onlyKeys(m: Obj, allowed: string[], t: string): void {
  for (const k of Object.keys(m)) if (!allowed.includes(k)) fail(`unexpected field "${k}" in ${t}`, t);
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
      onlyKeys(o, ["t", "v", "resume"], t);
      if (o.v !== PROTOCOL_VERSION) fail(`unsupported protocol version; this server speaks v${PROTOCOL_VERSION}`, t);
      if (o.resume !== undefined && (typeof o.resume !== "string" || !TOKEN_RE.test(o.resume))) fail("hello.resume must be a resume token", t);
      return o.resume === undefined ? { t, v: PROTOCOL_VERSION } : { t, v: PROTOCOL_VERSION, resume: o.resume as string };
    }
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
    case "ping":
      onlyKeys(o, ["t"], t);
      return { t };
    default:
      throw new MessageError("unknown-type", `unknown message type "${t.slice(0, 32)}"`);
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
