// PROTOCOL.md §2: h = SHA-256("voicesrv-commit-v1" || callId || pubI).
// callId enters every hash as its 16 raw bytes (not the 32-char hex string).

import { bufferSource, concatBytes, constantTimeEqual, utf8 } from "./bytes.ts";

const COMMIT_LABEL = utf8("voicesrv-commit-v1");

export async function computeCommitment(callId: Uint8Array, pubI: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bufferSource(concatBytes(COMMIT_LABEL, callId, pubI))));
}

export async function commitmentMatches(h: Uint8Array, callId: Uint8Array, pubI: Uint8Array): Promise<boolean> {
  return constantTimeEqual(h, await computeCommitment(callId, pubI));
}
