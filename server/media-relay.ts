// The ciphertext media relay: a frame's call handle picks the call, and the frame goes verbatim
// to the other member. Never parsed beyond the handle, never stored; slow receivers lose frames
// instead of making the server buffer them.
import type { Limits } from "../protocol/limits.ts";
import { readCallHandle } from "../protocol/media-header.ts";
import { peerOf } from "./call.ts";
import type { Calls } from "./calls.ts";
import type { Connection } from "./connection.ts";
import { newMediaCounters, type MediaCounters } from "./counters.ts";
import type { Outbox } from "./outbox.ts";

export class MediaRelay {
  readonly counters: MediaCounters = newMediaCounters();
  /** Sees every relayed frame; tests use it to prove the relay only ever carried ciphertext. */
  tap: ((frame: Uint8Array) => void) | null = null;

  constructor(
    private readonly limits: Limits,
    private readonly calls: Calls,
    private readonly out: Outbox,
  ) {}

  /** The frame already passed the connection's rate limit. */
  relay(conn: Connection, data: Uint8Array): void {
    const c = this.counters;
    if (data.byteLength > this.limits.maxFrameBytes) {
      c.droppedMalformed++;
      return this.out.error(conn, "too-large", `media frames are limited to ${this.limits.maxFrameBytes} bytes`, undefined, true);
    }
    const handle = readCallHandle(data);
    if (handle === null) {
      c.droppedMalformed++;
      return this.out.error(conn, "bad-frame", "binary messages must be media frames (PROTOCOL.md §6)", undefined, true);
    }
    const call = this.calls.byMediaHandle(handle);
    if (!call) {
      c.droppedUnknownCall++;
      return;
    }
    const me = conn.member;
    if (!me || me.conn !== conn || call.state !== "connected" || (call.caller !== me && call.callee !== me)) {
      c.droppedNotMember++;
      return;
    }
    const to = peerOf(call, me).conn;
    if (!to || to.socket.bufferedAmount() > this.limits.maxBufferedBytes) {
      c.droppedBackpressure++;
      return;
    }
    // Verbatim: header and ciphertext are the peer's AES-GCM input; a changed byte fails auth.
    if (to.socket.sendBinary(data) === 0) c.droppedBackpressure++;
    else {
      c.relayed++;
      this.tap?.(data);
    }
  }
}
