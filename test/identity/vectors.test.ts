// Committed vectors (test/vectors/identity-v2.json, from the noble + node:crypto reference) vs.
// the protocol code the server and the app run (WebCrypto).
import { describe, expect, test } from "vitest";
import vector from "../vectors/identity-v2.json";
import { base64urlEncode } from "../../protocol/base64url.ts";
import { groupKeys, helloSignedBytes, joinProof, leaveSignedBytes, signWithDevice, verifyDeviceSignature } from "../../protocol/identity-v2.ts";
import { crockfordBase32, memberIdFor } from "../../protocol/member-id.ts";
import { inviteLink, secretFromFragment } from "../../pwa/app/group-secrets.ts";
import { hex, refDevicePublicKey, refHelloMessage, refMemberId, refVerify, unhex } from "./reference-impl.ts";

const V = vector;
const D = unhex(V.D);
const n = unhex(V.challenge);

async function importFixedDeviceKey(): Promise<CryptoKey> {
  const jwk = { kty: "EC", crv: "P-256", d: Buffer.from(unhex(V.devicePrivateKey)).toString("base64url"), x: Buffer.from(D.subarray(1, 33)).toString("base64url"), y: Buffer.from(D.subarray(33)).toString("base64url") };
  return crypto.subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
}

describe("IDENTITY.md §1: device identity", () => {
  test("the reference derives D and the ID the vector holds", () => {
    expect(hex(refDevicePublicKey(unhex(V.devicePrivateKey)))).toBe(V.D);
    expect(refMemberId(D)).toBe(V.memberId);
  });

  test("member ID = first 6 Crockford base32 characters of SHA-256(label || D)", async () => {
    expect(await memberIdFor(D)).toBe(V.memberId);
    for (const m of V.memberIds) expect(await memberIdFor(unhex(m.D))).toBe(m.id);
  });

  test("Crockford base32 reads bits most significant first", () => {
    expect(crockfordBase32(new Uint8Array([0b00001_000, 0b10_00011_0, 0b0100_0000]), 4)).toBe("1234");
    expect(crockfordBase32(new Uint8Array([0xff, 0xff, 0xff, 0xff]), 6)).toBe("ZZZZZZ");
  });
});

describe("IDENTITY.md §2: hello v2", () => {
  test("the signed bytes are label || n || utf8(group)", () => {
    expect(hex(helloSignedBytes(n, V.group))).toBe(V.helloSignedBytes);
    expect(hex(leaveSignedBytes(n, V.group))).toBe(V.leaveSignedBytes);
  });

  test("the server's verifier accepts the reference's signatures, and nothing else", async () => {
    const hello = helloSignedBytes(n, V.group);
    expect(await verifyDeviceSignature(D, unhex(V.helloSig), hello)).toBe(true);
    expect(await verifyDeviceSignature(D, unhex(V.leaveSig), leaveSignedBytes(n, V.group))).toBe(true);
    // Another group, another challenge, a leave passed off as a hello, a flipped bit.
    expect(await verifyDeviceSignature(D, unhex(V.helloSig), helloSignedBytes(n, "oak-family2"))).toBe(false);
    expect(await verifyDeviceSignature(D, unhex(V.helloSig), helloSignedBytes(n.map((b, i) => (i === 0 ? b ^ 1 : b)), V.group))).toBe(false);
    expect(await verifyDeviceSignature(D, unhex(V.leaveSig), hello)).toBe(false);
    const flipped = unhex(V.helloSig);
    flipped[10]! ^= 0x80;
    expect(await verifyDeviceSignature(D, flipped, hello)).toBe(false);
    // Malformed keys never throw: a compressed point, a point off the curve, the wrong length.
    const offCurve = D.slice();
    offCurve[64]! ^= 1;
    for (const bad of [D.slice(0, 33), offCurve, new Uint8Array(65)]) expect(await verifyDeviceSignature(bad, unhex(V.helloSig), hello)).toBe(false);
  });

  test("signatures the app makes (WebCrypto) verify with the reference", async () => {
    const sig = await signWithDevice(await importFixedDeviceKey(), helloSignedBytes(n, V.group));
    expect(sig.length).toBe(64);
    expect(refVerify(D, sig, refHelloMessage(n, V.group))).toBe(true);
  });
});

describe("IDENTITY.md §3: private groups", () => {
  test("joinKey and psk from G, and the join proof", async () => {
    const G = unhex(V.G);
    const { joinKey, psk } = await groupKeys(G);
    expect(hex(joinKey)).toBe(V.joinKey);
    expect(hex(psk)).toBe(V.psk);
    expect(hex(await joinProof(joinKey, n, D))).toBe(V.joinProof);
  });

  test("the invite link carries G only in its fragment, as base64url", () => {
    const link = inviteLink("https://voice.example.org:22000", V.group, unhex(V.G));
    expect(link).toBe(`https://voice.example.org:22000/${V.group}#${V.inviteFragment}`);
    expect(new URL(link).pathname).toBe(`/${V.group}`);
    expect(hex(secretFromFragment(new URL(link).hash)!)).toBe(V.G);
    expect(base64urlEncode(unhex(V.G))).toBe(V.inviteFragment);
    for (const bad of ["", "#", "#abc", `#${V.inviteFragment}A`, `#${V.inviteFragment.slice(0, -1)}!`]) expect(secretFromFragment(bad)).toBeNull();
  });
});
