// The steps of setting up a call, as User Timing marks ("voicesrv:accept-tap", …): a browser's
// performance panel shows where the time between a tap and the first words goes, and
// `bench:first-seconds` prints them for both phones. Names only — never a key, a code or a peer.
export type SetupStep =
  | "call-tap"
  | "ringing"
  | "accept-tap"
  | "mic-open"
  | "call-sent"
  | "answer-sent"
  | "connected"
  | "audio-ready"
  /** The key exchange is done (the peer's confirm and identity verified); the peer is judged next. */
  | "keys-agreed"
  /** Judged against this device's records and not refused: the media gets the keys. */
  | "keys-confirmed"
  | "sending";

export function markSetup(step: SetupStep): void {
  try {
    // Each call's steps alone: a new call (a tap, or one ringing in) clears the last one's.
    if (step === "call-tap" || step === "ringing") for (const m of performance.getEntriesByType("mark")) if (m.name.startsWith("voicesrv:")) performance.clearMarks(m.name);
    performance.mark(`voicesrv:${step}`);
  } catch {
    // No User Timing (or a full buffer): the call does not depend on it.
  }
}
