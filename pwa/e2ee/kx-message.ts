// Wire format of the opaque `body` of the server's {t:"kx", callId, body} message.
// PROTOCOL.md fixes the contents (§2, §4) but not the encoding; this is it:
//   {"k":"commit", "c":callIdHex, "h":b64url(32)}
//   {"k":"pub",    "c":callIdHex, "p":b64url(65)}
//   {"k":"reveal", "c":callIdHex, "p":b64url(65)}
//   {"k":"confirm","c":callIdHex, "m":b64url(32)}
//   {"k":"id",     "c":callIdHex, "e":b64url(145)}   v2, IDENTITY.md §6
//   {"k":"mismatch","c":callIdHex,"r":b64url(1)}     v2: "They don't match" was tapped (r = 0x01)
// "c" repeats the callId inside the end-to-end body so a message relayed into the wrong call
// is recognised as foreign even if the outer envelope is wrong. Decoding is strict: exact key
// set, exact lengths, canonical base64url; anything else is null and gets ignored.

import { base64urlDecode, base64urlEncode } from "./bytes.ts";

export const MAX_KX_BODY = 1024;
const CALL_ID_RE = /^[0-9a-f]{32}$/;

export type KxMessage =
  | { k: "commit"; callId: string; h: Uint8Array }
  | { k: "pub"; callId: string; pub: Uint8Array }
  | { k: "reveal"; callId: string; pub: Uint8Array }
  | { k: "confirm"; callId: string; mac: Uint8Array }
  | { k: "id"; callId: string; e: Uint8Array }
  | { k: "mismatch"; callId: string; r: Uint8Array };

const FIELD = { commit: ["h", 32], pub: ["p", 65], reveal: ["p", 65], confirm: ["m", 32], id: ["e", 145], mismatch: ["r", 1] } as const;

/** Lower-case 32-hex callId, or null. */
export function normalizeCallId(callId: unknown): string | null {
  if (typeof callId !== "string") return null;
  const c = callId.toLowerCase();
  return CALL_ID_RE.test(c) ? c : null;
}

export function encodeKxBody(msg: KxMessage): string {
  const callId = normalizeCallId(msg.callId);
  if (!callId) throw new TypeError("callId must be 32 hex characters");
  const spec = FIELD[msg.k];
  if (!spec) throw new TypeError("unknown key-exchange message kind");
  const value = msg.k === "commit" ? msg.h : msg.k === "confirm" ? msg.mac : msg.k === "id" ? msg.e : msg.k === "mismatch" ? msg.r : msg.pub;
  if (!(value instanceof Uint8Array) || value.byteLength !== spec[1]) throw new TypeError(`${msg.k}: wrong length`);
  return JSON.stringify({ k: msg.k, c: callId, [spec[0]]: base64urlEncode(value) });
}

export function decodeKxBody(body: string): KxMessage | null {
  try {
    if (typeof body !== "string" || body.length > MAX_KX_BODY) return null;
    const o: unknown = JSON.parse(body);
    if (typeof o !== "object" || o === null || Array.isArray(o)) return null;
    const rec = o as Record<string, unknown>;
    const k = rec.k;
    if (typeof k !== "string" || !Object.hasOwn(FIELD, k)) return null;
    const kind = k as keyof typeof FIELD;
    const [field, len] = FIELD[kind];
    const keys = Object.keys(rec);
    if (keys.length !== 3 || !keys.includes("k") || !keys.includes("c") || !keys.includes(field)) return null;
    // The body's callId must already be canonical: one message, one encoding.
    if (typeof rec.c !== "string" || !CALL_ID_RE.test(rec.c)) return null;
    const raw = rec[field];
    if (typeof raw !== "string") return null;
    const bytes = base64urlDecode(raw);
    if (!bytes || bytes.byteLength !== len) return null;
    const callId = rec.c;
    switch (kind) {
      case "commit":
        return { k: kind, callId, h: bytes };
      case "confirm":
        return { k: kind, callId, mac: bytes };
      case "id":
        return { k: kind, callId, e: bytes };
      case "mismatch":
        return { k: kind, callId, r: bytes };
      default:
        return { k: kind, callId, pub: bytes };
    }
  } catch {
    return null;
  }
}
