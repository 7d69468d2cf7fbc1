// The steps of setting up a call, as User Timing marks ("voicesrv:accept-tap", …): a browser's
// performance panel shows where the time between a tap and the first words goes, and
// `bench:first-seconds` prints them for both phones. Names only — never a key, a code or a peer.
export type SetupStep =
  | "call-tap"
  | "accept-tap"
  | "mic-open"
  | "call-sent"
  | "answer-sent"
  | "connected"
  | "audio-ready"
  | "keys-confirmed"
  | "sending";

export function markSetup(step: SetupStep): void {
  try {
    performance.mark(`voicesrv:${step}`);
  } catch {
    // No User Timing (or a full buffer): the call does not depend on it.
  }
}
