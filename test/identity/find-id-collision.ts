// Finds two P-256 device keys whose member IDs (IDENTITY.md §1, 30 bits) collide, for the
// "another device with the same ID" test. A birthday search: ~2^15 keys on average.
//   node_modules/.bin/bun test/identity/find-id-collision.ts > test/fixtures/member-id-collision.json
import { p256 } from "@noble/curves/p256";
import { refMemberId } from "./reference-impl.ts";

const seen = new Map<string, Uint8Array>();
const b64u = (b: Uint8Array) => Buffer.from(b).toString("base64url");
const jwk = (priv: Uint8Array) => {
  const D = p256.getPublicKey(priv, false);
  return { kty: "EC", crv: "P-256", d: b64u(priv), x: b64u(D.subarray(1, 33)), y: b64u(D.subarray(33)) };
};
for (let i = 0; ; i++) {
  const priv = p256.utils.randomPrivateKey();
  const id = refMemberId(p256.getPublicKey(priv, false));
  const other = seen.get(id);
  if (other) {
    console.log(JSON.stringify({ note: "two test-only device keys with the same member ID; never use them anywhere else", id, tries: i + 1, keys: [jwk(other), jwk(priv)] }, null, 2));
    break;
  }
  seen.set(id, priv);
}
