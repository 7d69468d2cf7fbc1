import type { TokenBucket } from "./rate-limiter.ts";
import type { Member } from "./member.ts";

/** The hub's view of one WebSocket, so the state machine does not depend on Bun's types. */
export interface Socket {
  sendText(text: string): void;
  /** Bun semantics: -1 queued under backpressure, 0 dropped, > 0 bytes sent. */
  sendBinary(data: Uint8Array): number;
  bufferedAmount(): number;
  close(code: number, reason: string): void;
}

export interface Connection {
  readonly socket: Socket;
  readonly group: string;
  readonly ip: string;
  /** The 32 random bytes this socket's hello must sign (IDENTITY.md §2). */
  readonly challenge: Uint8Array;
  member: Member | null;
  /** A hello is being verified (signatures are checked asynchronously). */
  helloPending: boolean;
  helloTimer: ReturnType<typeof setTimeout> | null;
  control: TokenBucket;
  media: TokenBucket;
  /** Error replies are themselves rate-limited, or a flooding client would make us flood it. */
  lastErrorAt: number;
  /** Set when the hub decided to close; nothing more is sent, and the close itself is deferred. */
  closing: boolean;
  closed: boolean;
}
