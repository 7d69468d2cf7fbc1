// PROTOCOL.md §4: confirm = HMAC-SHA-256(kC, "initiator" | "responder").
// Verification goes through crypto.subtle.verify, which compares in constant time.

import { bufferSource, utf8, wipe } from "./bytes.ts";
import type { Role } from "./role.ts";

const HMAC = { name: "HMAC", hash: "SHA-256" } as const;

/** Wipes the raw kC after import. */
export async function importConfirmKey(kC: Uint8Array): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey("raw", bufferSource(kC), HMAC, false, ["sign", "verify"]);
  } finally {
    wipe(kC);
  }
}

export async function confirmMac(kC: CryptoKey, role: Role): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", kC, bufferSource(utf8(role))));
}

export async function verifyConfirm(kC: CryptoKey, peerRole: Role, mac: Uint8Array): Promise<boolean> {
  return crypto.subtle.verify("HMAC", kC, bufferSource(mac), bufferSource(utf8(peerRole)));
}
