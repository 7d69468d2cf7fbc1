// Everything the hub's parts send goes through here: JSON to a connection or a member, error
// replies (throttled for floods, or we would flood back), and closes deferred to a microtask.
import type { ErrorCode, ServerMessage } from "../protocol/messages.ts";
import type { Connection } from "./connection.ts";
import type { Member } from "./member.ts";

/** Control messages still queue under backpressure; past this the client is hopeless. */
const MAX_CONTROL_BUFFERED = 1024 * 1024;

export const CLOSE_NORMAL = 1000;
export const CLOSE_POLICY = 1008;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_HELLO_TIMEOUT = 4000;
export const CLOSE_REPLACED = 4001;
export const CLOSE_REFUSED = 4002;
export const CLOSE_GROUP_FULL = 4003;

export class Outbox {
  send(m: Member, msg: ServerMessage): void {
    if (m.conn) this.sendTo(m.conn, msg);
  }

  sendTo(conn: Connection, msg: ServerMessage): void {
    if (conn.closed || conn.closing) return;
    if (conn.socket.bufferedAmount() > MAX_CONTROL_BUFFERED) return this.close(conn, CLOSE_POLICY, "not reading");
    conn.socket.sendText(JSON.stringify(msg));
  }

  error(conn: Connection, code: ErrorCode, message: string, ref?: string, throttled = false): void {
    if (throttled) {
      const now = performance.now();
      if (now - conn.lastErrorAt < 1000) return;
      conn.lastErrorAt = now;
    }
    this.sendTo(conn, ref ? { t: "error", code, message, ref } : { t: "error", code, message });
  }

  /**
   * Bun runs the close handler synchronously inside ws.close(), which would re-enter the hub in
   * the middle of whatever operation decided to close; the close waits for a microtask instead.
   */
  close(conn: Connection, code: number, reason: string): void {
    if (conn.closed || conn.closing) return;
    conn.closing = true;
    queueMicrotask(() => conn.socket.close(code, reason));
  }
}
