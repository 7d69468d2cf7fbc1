// PROTOCOL.md §2: h = SHA-256("voicesrv-commit-v1" || callId || pubI); IDENTITY.md §5 renames the
// label to "voicesrv-commit-v2" for v2 calls.
// callId enters every hash as its 16 raw bytes (not the 32-char hex string).

import { bufferSource, concatBytes, constantTimeEqual, utf8 } from "./bytes.ts";

const COMMIT_LABEL = { 1: utf8("voicesrv-commit-v1"), 2: utf8("voicesrv-commit-v2") } as const;

export async function computeCommitment(callId: Uint8Array, pubI: Uint8Array, version: 1 | 2 = 1): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bufferSource(concatBytes(COMMIT_LABEL[version], callId, pubI))));
}

export async function commitmentMatches(h: Uint8Array, callId: Uint8Array, pubI: Uint8Array, version: 1 | 2 = 1): Promise<boolean> {
  return constantTimeEqual(h, await computeCommitment(callId, pubI, version));
}
