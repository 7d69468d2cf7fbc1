// Bun (uWebSockets underneath) closes a socket itself when a client breaks the framing rules —
// a message over maxPayloadLength, invalid UTF-8 in a text frame or a close reason, a reserved
// opcode or RSV bit, an oversized control frame — and sends the client the proper close frame
// (1009, 1007, 1002). The close *handler*, though, receives 1006 for all of these, the same
// code as a network drop; only the reason tells them apart: Bun passes the text it put in its
// close frame ("Received too big message", …), while a real drop carries none. Measured on
// Bun 1.4.5; test/server/policy-closes.test.ts pins the behaviour so an upgrade that changes it
// fails loudly.
//
// A client cannot forge the distinction: 1006 is reserved and never sent on the wire (Bun
// answers a close frame carrying it with its own "Received invalid close code" close, which
// maps to 1002 here — a policy close as well).

/** RFC 6455 codes for what Bun's own closes mean. */
export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_INVALID_DATA = 1007;
export const CLOSE_TOO_BIG = 1009;

const ABNORMAL = 1006;

/**
 * The close code the hub should act on: Bun's own policy closes get the code Bun sent the
 * client; everything else is passed through unchanged (1006 without a reason is a real drop).
 */
export function effectiveCloseCode(code: number, reason: string): number {
  if (code !== ABNORMAL || reason === "") return code;
  const r = reason.toLowerCase();
  if (r.includes("too big message")) return CLOSE_TOO_BIG;
  if (r.includes("utf-8") || r.includes("utf8")) return CLOSE_INVALID_DATA;
  return CLOSE_PROTOCOL_ERROR;
}
