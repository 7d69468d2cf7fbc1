// DESIGN.md limits. Every one is configurable; these are the defaults and the values a client
// learns in its welcome message.
export interface Limits {
  maxTextBytes: number;
  maxFrameBytes: number;
  mediaFramesPerSecond: number;
  /** Media frames a connection may send at once above the long-run rate. TCP hands over
   *  everything a stalled mobile link held back in one go, so this must cover a stall's backlog
   *  (150 = 3 s of 20 ms frames); the long-run rate stays mediaFramesPerSecond. */
  mediaBurstFrames: number;
  controlMessagesPerSecond: number;
  connectionsPerIp: number;
  membersPerGroup: number;
  ringTimeoutMs: number;
  keyExchangeTimeoutMs: number;
  idleTimeoutSeconds: number;
  /** Bytes queued to one receiver above which media to it is dropped instead of buffered. */
  maxBufferedBytes: number;
  /** Max opaque key-exchange body length, in characters. */
  maxKxBodyChars: number;
  /** How long a dropped connection keeps its ID and held call for a resume. */
  resumeGraceMs: number;
  /** Groups the roster holds at most (IDENTITY.md §4). */
  groupsPerServer: number;
  /** Hellos one address may have checked per minute. */
  joinsPerIpPerMinute: number;
  /** Bad signatures or invite proofs one address may send per minute before it is refused unchecked. */
  failedJoinsPerIpPerMinute: number;
  /** Members not seen for this many days leave the roster. */
  pruneAfterDays: number;
  /** How long a call to a closed app rings (by Web Push) before it is missed. */
  pushRingTimeoutMs: number;
  /** Calls one member may ring by push per minute, and rings by push one member may receive. */
  pushesPerCallerPerMinute: number;
  pushesPerCalleePerMinute: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxTextBytes: 8 * 1024,
  maxFrameBytes: 2 * 1024,
  mediaFramesPerSecond: 60,
  mediaBurstFrames: 150,
  controlMessagesPerSecond: 20,
  connectionsPerIp: 16,
  membersPerGroup: 100,
  ringTimeoutMs: 45_000,
  keyExchangeTimeoutMs: 10_000,
  idleTimeoutSeconds: 60,
  maxBufferedBytes: 64 * 1024,
  maxKxBodyChars: 2048,
  resumeGraceMs: 15_000,
  groupsPerServer: 1000,
  joinsPerIpPerMinute: 60,
  failedJoinsPerIpPerMinute: 10,
  pruneAfterDays: 180,
  pushRingTimeoutMs: 45_000,
  pushesPerCallerPerMinute: 10,
  pushesPerCalleePerMinute: 10,
});
