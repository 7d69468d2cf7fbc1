// IDENTITY.md §5–§6 in pwa/e2ee: the v2 key schedule against vectors from the independent
// reference, and a hostile relay against calls that verify themselves.
import { describe, expect, test } from "vitest";
import vector from "../vectors/identity-v2-calls.json";
import { decodeKxBody, type KeyExchangeOptions } from "../../pwa/e2ee/index.ts";
import { computeCommitment } from "../../pwa/e2ee/commitment.ts";
import { type DeviceSigner, idSignedBytes, openIdentity, sealIdentity } from "../../pwa/e2ee/identity-binding.ts";
import { deriveSchedule, transcriptHash } from "../../pwa/e2ee/key-schedule.ts";
import { signWithDevice } from "../../protocol/identity-v2.ts";
import { makePair, outcome, randomCallId, type Intercept } from "../e2ee/channel.ts";
import { hex, refVerify, unhex } from "./reference-impl.ts";
import { refOpenId } from "./reference-v2.ts";
import { TestDevice } from "../helpers/test-device.ts";

const V = vector;
const te = new TextEncoder();
const callId = unhex(V.callId);
const offers = { offerI: te.encode(V.offerI), offerR: te.encode(V.offerR) };

function signer(d: TestDevice): DeviceSigner {
  return { publicKey: d.publicKey, sign: (m) => signWithDevice(d.keys.privateKey, m) };
}

async function fixedDevice(scalarHex: string): Promise<TestDevice> {
  const { p256 } = await import("@noble/curves/p256");
  const d = unhex(scalarHex);
  const D = p256.getPublicKey(d, false);
  const b = (x: Uint8Array) => Buffer.from(x).toString("base64url");
  return TestDevice.fromJwk({ kty: "EC", crv: "P-256", d: b(d), x: b(D.subarray(1, 33)), y: b(D.subarray(33)) });
}

describe("key schedule v2 against the committed vectors", () => {
  test("commitment label v2", async () => {
    expect(hex(await computeCommitment(callId, unhex(V.pubI), 2))).toBe(V.commitment);
  });

  test.each([
    ["open", null],
    ["private", V.psk],
  ] as const)("%s group: T binds the offers, IKM = Z || psk, identity keys", async (kind, psk) => {
    const want = V[kind];
    const T = await transcriptHash(callId, unhex(V.pubI), unhex(V.pubR), offers);
    expect(hex(T)).toBe(want.T);
    const s = await deriveSchedule(unhex(V.Z), T, { psk: psk ? unhex(psk) : null });
    for (const k of ["kIR", "sIR", "kRI", "sRI", "kC", "sas", "kIdIR", "kIdRI"] as const) expect(hex(s[k]!), k).toBe(want[k]);
  });

  test("the psk changes every key: a relay without it derives none of them", () => {
    for (const k of ["kIR", "kRI", "kC", "sas", "kIdIR", "kIdRI"] as const) expect(V.private[k]).not.toBe(V.open[k]);
  });

  test("identity messages: the app opens the reference's, the reference opens the app's", async () => {
    const T = unhex(V.open.T);
    expect(hex((await openIdentity(unhex(V.open.kIdIR), T, "initiator", unhex(V.open.idI)))!)).toBe(V.DI);
    expect(hex((await openIdentity(unhex(V.open.kIdRI), T, "responder", unhex(V.open.idR)))!)).toBe(V.DR);
    // Reflected (checked with the wrong role), under another call's T, or under the other key: refused.
    expect(await openIdentity(unhex(V.open.kIdIR), T, "responder", unhex(V.open.idI))).toBeNull();
    expect(await openIdentity(unhex(V.open.kIdIR), crypto.getRandomValues(new Uint8Array(32)), "initiator", unhex(V.open.idI))).toBeNull();
    expect(await openIdentity(unhex(V.open.kIdRI), T, "initiator", unhex(V.open.idI))).toBeNull();

    const dev = await fixedDevice(V.deviceI);
    const e = await sealIdentity(unhex(V.open.kIdIR), T, "initiator", signer(dev));
    const opened = refOpenId(unhex(V.open.kIdIR), e)!;
    expect(hex(opened.D)).toBe(V.DI);
    expect(refVerify(opened.D, opened.s, idSignedBytes(T, "initiator"))).toBe(true);
  });
});

/** v2 options for one side of a call. */
function side(dev: TestDevice, psk: Uint8Array | null = null, o = offers): Omit<KeyExchangeOptions, "callId" | "role" | "send" | "unsafeTestOnly"> {
  return { v2: { ...o, psk, device: signer(dev) } };
}

describe("calls that verify themselves", () => {
  test("honest v2 call: both sides learn the other's device key, SAS agree", async () => {
    const [a, b] = await Promise.all([TestDevice.create(), TestDevice.create()]);
    const p = makePair({ callId: randomCallId(), extraI: side(a), extraR: side(b) });
    await Promise.all([p.i.start(), p.r.start()]);
    const [ki, kr] = await Promise.all([p.i.done, p.r.done]);
    expect(hex(ki.peerDevice!)).toBe(hex(b.publicKey));
    expect(hex(kr.peerDevice!)).toBe(hex(a.publicKey));
    expect(ki.sas.bits).toBe(kr.sas.bits);
    // Each side sent exactly commit|pub, reveal?, confirm, id.
    expect(p.sentByI.map((x) => decodeKxBody(x)?.k)).toEqual(["commit", "reveal", "confirm", "id"]);
    expect(p.sentByR.map((x) => decodeKxBody(x)?.k)).toEqual(["pub", "confirm", "id"]);
  });

  /** A relay that runs its own exchange on each leg, with its own device key, forwarding `id`s or not. */
  async function mitm(opts: { psk?: Uint8Array; forwardIds: boolean }) {
    const [a, b, m] = await Promise.all([TestDevice.create(), TestDevice.create(), TestDevice.create()]);
    const cid = randomCallId();
    const isId = (x: string) => decodeKxBody(x)?.k === "id";
    const ref = {} as { left: ReturnType<typeof makePair>; right: ReturnType<typeof makePair> };
    const cross = (to: () => { receive(b: string): void }): Intercept => (body, deliver) => {
      if (!isId(body)) return deliver(body);
      if (opts.forwardIds) setTimeout(() => to().receive(body), 0); // A's real id to B, and back
      else deliver(body); // the relay's own id
    };
    const psk = opts.psk ?? null;
    // When forwarding, the relay's own ids are withheld so only the honest ones arrive.
    const ownIds: Intercept = (body, deliver) => (opts.forwardIds && isId(body) ? undefined : deliver(body));
    // left: honest A (initiator) ↔ relay (responder); right: relay (initiator) ↔ honest B.
    ref.left = makePair({ callId: cid, extraI: side(a, psk), extraR: side(m, psk), toR: cross(() => ref.right.r), toI: ownIds });
    ref.right = makePair({ callId: cid, extraI: side(m, psk), extraR: side(b, psk), toI: cross(() => ref.left.i), toR: ownIds });
    await Promise.all([ref.left.i.start(), ref.left.r.start(), ref.right.i.start(), ref.right.r.start()]);
    return { a, b, m, ref };
  }

  test("in a private group a key-swapping relay fails key confirmation — nobody has to compare anything", async () => {
    // The parties share psk; the relay (the server) holds only joinKey, so it uses another value.
    const psk = crypto.getRandomValues(new Uint8Array(32));
    const [a, b, m] = await Promise.all([TestDevice.create(), TestDevice.create(), TestDevice.create()]);
    const cid = randomCallId();
    const left = makePair({ callId: cid, extraI: side(a, psk), extraR: side(m, null) });
    const right = makePair({ callId: cid, extraI: side(m, null), extraR: side(b, psk) });
    await Promise.all([left.i.start(), left.r.start(), right.i.start(), right.r.start()]);
    expect(await outcome(left.i.done)).toBe("confirm");
    expect(await outcome(right.r.done)).toBe("confirm");
  });

  test("forwarding the honest `id` messages across legs fails the identity check on both sides", async () => {
    const { ref } = await mitm({ forwardIds: true });
    // Each id is signed over its own leg's T: on the other leg it does not verify (or decrypt).
    expect(await outcome(ref.left.i.done)).toBe("identity");
    expect(await outcome(ref.right.r.done)).toBe("identity");
  });

  test("a relay with its own device key completes, but the honest sides see ITS key, not each other's", async () => {
    const { a, b, m, ref } = await mitm({ forwardIds: false });
    const [ki, kr] = await Promise.all([ref.left.i.done, ref.right.r.done]);
    // What the app compares with its verified contacts: never the real peer's key.
    expect(hex(ki.peerDevice!)).toBe(hex(m.publicKey));
    expect(hex(kr.peerDevice!)).toBe(hex(m.publicKey));
    expect(hex(ki.peerDevice!)).not.toBe(hex(b.publicKey));
    expect(hex(kr.peerDevice!)).not.toBe(hex(a.publicKey));
  });

  test("a relay that rewrites a codec offer breaks key confirmation", async () => {
    const [a, b] = await Promise.all([TestDevice.create(), TestDevice.create()]);
    // The responder offered ["opus","pcmu16"]; the relay told the initiator it offered only pcmu16.
    const seenByI = { offerI: te.encode('["opus","pcmu16"]'), offerR: te.encode('["pcmu16"]') };
    const sentByR = { offerI: te.encode('["opus","pcmu16"]'), offerR: te.encode('["opus","pcmu16"]') };
    const p = makePair({ callId: randomCallId(), extraI: side(a, null, seenByI), extraR: side(b, null, sentByR) });
    await Promise.all([p.i.start(), p.r.start()]);
    expect(await outcome(p.i.done)).toBe("confirm");
    expect(await outcome(p.r.done)).toBe("confirm");
  });

  test("an `id` replayed from another call, reflected back, or signed by another key is refused", async () => {
    const [a, b] = await Promise.all([TestDevice.create(), TestDevice.create()]);
    // A finished call to harvest A's id from.
    const old = makePair({ callId: randomCallId(), extraI: side(a), extraR: side(b) });
    await Promise.all([old.i.start(), old.r.start(), old.i.done]);
    const oldIdOfA = JSON.parse(old.sentByI.find((x) => decodeKxBody(x)?.k === "id")!).e as string;

    const cases: [string, (cid: string, own: string, self: string) => string][] = [
      ["replayed from another call", (cid) => JSON.stringify({ k: "id", c: cid, e: oldIdOfA })],
      ["reflected (our own id back)", (_cid, _own, self) => self],
    ];
    for (const [, forge] of cases) {
      const cid = randomCallId();
      let mine = "";
      const p = makePair({
        callId: cid,
        extraI: side(a),
        extraR: side(b),
        toR: (body, deliver) => (decodeKxBody(body)?.k === "id" ? undefined : deliver(body)),
        toI: (body, deliver) => {
          if (decodeKxBody(body)?.k !== "id") return deliver(body);
          deliver(forge(cid, body, mine));
        },
      });
      await Promise.all([p.i.start(), p.r.start()]);
      // The initiator's own id is known once it sent it; it is delivered back to itself too.
      await new Promise((r) => setTimeout(r, 50));
      mine = p.sentByI.find((x) => decodeKxBody(x)?.k === "id") ?? "";
      if (mine) p.i.receive(mine);
      expect(await outcome(p.i.done)).toBe("identity");
      p.r.abort();
    }

    // Signed by another device than the one whose key the message carries: an id built with
    // the right kId (only a party to the call has it) but B's D with A's signature.
    const fake: DeviceSigner = { publicKey: b.publicKey, sign: (msg) => signWithDevice(a.keys.privateKey, msg) };
    const p = makePair({ callId: randomCallId(), extraI: side(a), extraR: { v2: { ...offers, psk: null, device: fake } } });
    await Promise.all([p.i.start(), p.r.start()]);
    expect(await outcome(p.i.done)).toBe("identity");
    p.r.abort();
  });
});
