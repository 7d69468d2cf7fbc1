// This device's long-term identity (IDENTITY.md §1): an ECDSA P-256 key pair made once, kept in
// IndexedDB with a non-extractable private key. The member ID and the safety-key fingerprint
// are derived from the public point; the app signs hellos and leaves with it and nothing else.
import { base64urlDecode, base64urlEncode } from "../../protocol/base64url.ts";
import { declineSignedBytes, deviceFingerprint, groupKeys, helloSignedBytes, joinProof, leaveSignedBytes, signWithDevice } from "../../protocol/identity-v2.ts";
import { memberIdFor } from "../../protocol/member-id.ts";
import type { DeviceSigner } from "../e2ee/identity-binding.ts";
import { database, type StoredIdentity } from "./db.ts";

export class DeviceIdentity {
  private constructor(
    private readonly stored: StoredIdentity,
    readonly id: string,
    readonly fingerprint: string,
  ) {}

  /** The device's identity, made on first use. Concurrent first calls (two tabs) agree on one. */
  static async load(): Promise<DeviceIdentity> {
    const db = await database();
    let stored = await db.get("identity", "device");
    if (!stored) {
      const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])) as CryptoKeyPair;
      const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));
      const tx = db.transaction("identity", "readwrite");
      // Another tab may have stored one since we looked: theirs wins, ours is dropped.
      stored = (await tx.store.get("device")) ?? { keys, publicKey, createdAt: Date.now() };
      await tx.store.put(stored, "device");
      await tx.done;
    }
    return new DeviceIdentity(stored, await memberIdFor(stored.publicKey), await deviceFingerprint(stored.publicKey));
  }

  /** The stored identity, never a new one (the service worker must not create it). */
  static async existing(): Promise<DeviceIdentity | null> {
    const stored = await (await database()).get("identity", "device");
    return stored ? new DeviceIdentity(stored, await memberIdFor(stored.publicKey), await deviceFingerprint(stored.publicKey)) : null;
  }

  /** A new key pair: a new member everywhere (the old one stays in rosters until pruned). */
  static async reset(): Promise<void> {
    await (await database()).delete("identity", "device");
  }

  get d(): string {
    return base64urlEncode(this.stored.publicKey);
  }

  get publicKey(): Uint8Array {
    return this.stored.publicKey;
  }

  /** Signs the call's identity message (IDENTITY.md §6) without ever exposing the key. */
  get signer(): DeviceSigner {
    const key = this.stored.keys.privateKey;
    return { publicKey: this.stored.publicKey, sign: (m) => signWithDevice(key, m) };
  }

  /** The hello v2 fields for this socket's challenge `n` (IDENTITY.md §2–§3). */
  async hello(n: string, group: string, name: string, secret: { secret: Uint8Array; creating: boolean } | null) {
    const challenge = base64urlDecode(n);
    if (!challenge || challenge.length !== 32) throw new Error("the server sent a malformed challenge");
    const sig = base64urlEncode(await signWithDevice(this.stored.keys.privateKey, helloSignedBytes(challenge, group)));
    const msg: { t: "hello"; v: 2; d: string; name: string; sig: string; proof?: string; joinKey?: string } = { t: "hello", v: 2, d: this.d, name, sig };
    if (secret) {
      const { joinKey } = await groupKeys(secret.secret);
      msg.proof = base64urlEncode(await joinProof(joinKey, challenge, this.stored.publicKey));
      if (secret.creating) msg.joinKey = base64urlEncode(joinKey);
    }
    return msg;
  }

  /** "Decline" on a ringing notification: the signed request body for /api/push/decline. */
  async decline(callId: string, group: string): Promise<{ group: string; callId: string; d: string; sig: string }> {
    const sig = base64urlEncode(await signWithDevice(this.stored.keys.privateKey, declineSignedBytes(callId, group)));
    return { group, callId, d: this.d, sig };
  }

  async leave(n: string, group: string): Promise<{ t: "leave"; sig: string }> {
    const challenge = base64urlDecode(n);
    if (!challenge || challenge.length !== 32) throw new Error("the server sent a malformed challenge");
    return { t: "leave", sig: base64urlEncode(await signWithDevice(this.stored.keys.privateKey, leaveSignedBytes(challenge, group))) };
  }
}
