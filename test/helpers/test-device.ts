// A device identity for tests, made the way the app makes one (WebCrypto ECDSA P-256), and the
// hello v2 it sends (IDENTITY.md §2–§3).
import { base64urlDecode, base64urlEncode } from "../../protocol/base64url.ts";
import { groupKeys, helloSignedBytes, joinProof, leaveSignedBytes, signWithDevice } from "../../protocol/identity-v2.ts";
import { memberIdFor } from "../../protocol/member-id.ts";

export class TestDevice {
  private constructor(
    readonly keys: CryptoKeyPair,
    readonly publicKey: Uint8Array,
    readonly id: string,
  ) {}

  static async create(): Promise<TestDevice> {
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])) as CryptoKeyPair;
    const pub = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));
    return new TestDevice(keys, pub, await memberIdFor(pub));
  }

  /** A fixed key (committed test fixtures), imported non-extractable like the app's. */
  static async fromJwk(jwk: JsonWebKey): Promise<TestDevice> {
    const privateKey = await crypto.subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
    const publicKey = await crypto.subtle.importKey("jwk", { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y }, { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
    const pub = new Uint8Array(await crypto.subtle.exportKey("raw", publicKey));
    return new TestDevice({ privateKey, publicKey }, pub, await memberIdFor(pub));
  }

  get d(): string {
    return base64urlEncode(this.publicKey);
  }

  async sign(message: Uint8Array<ArrayBuffer>): Promise<string> {
    return base64urlEncode(await signWithDevice(this.keys.privateKey, message));
  }

  /** The hello this device sends for `group` after the server's challenge `n`. */
  async hello(n: string, group: string, opts: { name?: string; secret?: Uint8Array; create?: boolean } = {}): Promise<Record<string, unknown>> {
    const challenge = base64urlDecode(n)!;
    const msg: Record<string, unknown> = { t: "hello", v: 2, d: this.d, name: opts.name ?? `Tester ${this.id}`, sig: await this.sign(helloSignedBytes(challenge, group)) };
    if (opts.secret) {
      const { joinKey } = await groupKeys(opts.secret);
      msg.proof = base64urlEncode(await joinProof(joinKey, challenge, this.publicKey));
      if (opts.create) msg.joinKey = base64urlEncode(joinKey);
    }
    return msg;
  }

  async leave(n: string, group: string): Promise<Record<string, unknown>> {
    return { t: "leave", sig: await this.sign(leaveSignedBytes(base64urlDecode(n)!, group)) };
  }
}

export function newGroupSecret(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(16));
}
