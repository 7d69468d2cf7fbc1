// A hostile relay (the server, or anyone on the path) attacking PROTOCOL.md §2/§4/§5.

import { p256 } from "@noble/curves/p256";
import { sha256 } from "@noble/hashes/sha2";
import { describe, expect, test } from "vitest";
import { isValidUncompressedP256Point } from "../../pwa/e2ee/ecdh.ts";
import { decodeKxBody, encodeKxBody, KeyExchange, type KxMessage } from "../../pwa/e2ee/index.ts";
import { type Intercept, makePair, outcome, randomCallId } from "./channel.ts";
import { importFixedKeyPair } from "./fixed-keys.ts";
import { hex, refCommitment, unhex } from "./reference-impl.ts";

const te = new TextEncoder();
const fixedKeys = (label: string) => importFixedKeyPair(hex(sha256(te.encode(`voicesrv attack test ${label}`))));
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

function rewrite(kind: KxMessage["k"], f: (m: KxMessage) => KxMessage): Intercept {
  return (body, deliver) => {
    const m = decodeKxBody(body);
    deliver(m && m.k === kind ? encodeKxBody(f(m)) : body);
  };
}

async function freshPub(): Promise<Uint8Array> {
  const kp = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
  return new Uint8Array(await crypto.subtle.exportKey("raw", (kp as CryptoKeyPair).publicKey));
}

function offCurve(pub: Uint8Array): Uint8Array {
  const bad = pub.slice();
  bad[64]! ^= 0x01;
  return bad;
}

describe("man in the middle substituting both public keys", () => {
  test("with its own correctly formed exchanges on both legs, the honest sides see different SAS", async () => {
    const callId = randomCallId();
    // I <-> M(as responder)   and   M(as initiator) <-> R, fixed keys so the test is deterministic.
    const left = makePair({ callId, keyPairI: await fixedKeys("I"), keyPairR: await fixedKeys("M1") });
    const right = makePair({ callId, keyPairI: await fixedKeys("M2"), keyPairR: await fixedKeys("R") });
    await Promise.all([left.i.start(), left.r.start(), right.i.start(), right.r.start()]);
    const [honestI, mAsR, mAsI, honestR] = await Promise.all([left.i.done, left.r.done, right.i.done, right.r.done]);

    // The MitM commits to its own key on the right leg before it could know R's key.
    expect(decodeKxBody(right.sentByI[0]!)).toMatchObject({ k: "commit" });
    expect(honestI.sas.bits).toBe(mAsR.sas.bits);
    expect(honestR.sas.bits).toBe(mAsI.sas.bits);
    // What the two people read to each other differs: the attack is caught.
    expect(honestI.sas.bits).not.toBe(honestR.sas.bits);
    expect(honestI.sas.symbols.map((s) => s.name)).not.toEqual(honestR.sas.symbols.map((s) => s.name));

    // Without re-encryption by the MitM, I's audio does not open at R.
    const frame = await honestI.sealer.seal(1, te.encode("hello"));
    expect(await honestR.opener.open(frame)).toBeNull();
    expect(honestR.opener.stats.authFailed).toBe(1);
  });

  test("if the MitM substitutes keys but passes the confirms through, both honest sides reject with confirm", async () => {
    const callId = randomCallId();
    const ref = {} as { left: ReturnType<typeof makePair>; right: ReturnType<typeof makePair> };
    const isConfirm = (b: string) => decodeKxBody(b)?.k === "confirm";
    // left.i = honest I, left.r = MitM; right.i = MitM, right.r = honest R.
    ref.left = makePair({
      callId,
      toR: (b, deliver) => (isConfirm(b) ? setTimeout(() => ref.right.r.receive(b), 0) : deliver(b)),
      toI: (b, deliver) => (isConfirm(b) ? undefined : deliver(b)),
    });
    ref.right = makePair({
      callId,
      toR: (b, deliver) => (isConfirm(b) ? undefined : deliver(b)),
      toI: (b, deliver) => (isConfirm(b) ? setTimeout(() => ref.left.i.receive(b), 0) : deliver(b)),
    });
    await Promise.all([ref.left.i.start(), ref.left.r.start(), ref.right.i.start(), ref.right.r.start()]);
    expect(await outcome(ref.left.i.done)).toBe("confirm");
    expect(await outcome(ref.right.r.done)).toBe("confirm");
    ref.left.r.abort();
    ref.right.i.abort();
  });
});

describe("man in the middle swapping only one key", () => {
  test("pubI replaced in the reveal (commitment left alone): responder rejects with commitment", async () => {
    const callId = randomCallId();
    const mallory = await freshPub();
    const p = makePair({
      callId,
      toR: rewrite("reveal", (m) => ({ ...m, pub: mallory }) as KxMessage),
      extra: { timeoutMs: 300 },
    });
    await Promise.all([p.i.start(), p.r.start()]);
    expect(await outcome(p.r.done)).toBe("commitment");
    expect(await outcome(p.i.done)).toBe("timeout"); // never gets a confirm
  });

  test("commitment replaced by one over the attacker's key, real reveal: commitment", async () => {
    const callId = randomCallId();
    const mallory = await freshPub();
    const p = makePair({
      callId,
      toR: rewrite("commit", (m) => ({ ...m, h: refCommitment(unhex(callId), mallory) }) as KxMessage),
      extra: { timeoutMs: 300 },
    });
    await Promise.all([p.i.start(), p.r.start()]);
    expect(await outcome(p.r.done)).toBe("commitment");
  });

  test("pubR replaced (initiator side only): both derive different keys and reject with confirm", async () => {
    const callId = randomCallId();
    const mallory = await freshPub();
    const p = makePair({ callId, toI: rewrite("pub", (m) => ({ ...m, pub: mallory }) as KxMessage) });
    await Promise.all([p.i.start(), p.r.start()]);
    expect(await outcome(p.r.done)).toBe("confirm");
    expect(await outcome(p.i.done)).toBe("confirm");
  });

  test("a commitment computed for another callId does not verify", async () => {
    const callId = randomCallId();
    const pubI = await freshPub();
    const r = new KeyExchange({ callId, role: "responder", send: () => {}, timeoutMs: 1000 });
    await r.start();
    r.receive(encodeKxBody({ k: "commit", callId, h: refCommitment(unhex(randomCallId()), pubI) }));
    await tick();
    r.receive(encodeKxBody({ k: "reveal", callId, pub: pubI }));
    expect(await outcome(r.done)).toBe("commitment");
  });
});

describe("bad confirm", () => {
  test("initiator's confirm replaced by random bytes: responder rejects with confirm", async () => {
    const p = makePair({
      callId: randomCallId(),
      toR: rewrite("confirm", (m) => ({ ...m, mac: crypto.getRandomValues(new Uint8Array(32)) }) as KxMessage),
    });
    await Promise.all([p.i.start(), p.r.start()]);
    expect(await outcome(p.r.done)).toBe("confirm");
  });

  test("responder's confirm with one bit flipped: initiator rejects with confirm", async () => {
    const p = makePair({
      callId: randomCallId(),
      toI: rewrite("confirm", (m) => {
        const mac = (m as { mac: Uint8Array }).mac.slice();
        mac[31]! ^= 0x80;
        return { ...m, mac } as KxMessage;
      }),
    });
    await Promise.all([p.i.start(), p.r.start()]);
    expect(await outcome(p.i.done)).toBe("confirm");
  });

  test("a valid confirm from another call, re-addressed to this one, is rejected", async () => {
    const old = makePair({ callId: randomCallId() });
    await Promise.all([old.i.start(), old.r.start()]);
    await Promise.all([old.i.done, old.r.done]);
    const oldConfirm = decodeKxBody(old.sentByR[1]!) as Extract<KxMessage, { k: "confirm" }>;
    const p = makePair({
      callId: randomCallId(),
      toI: rewrite("confirm", (m) => ({ ...m, mac: oldConfirm.mac }) as KxMessage),
    });
    await Promise.all([p.i.start(), p.r.start()]);
    expect(await outcome(p.i.done)).toBe("confirm");
  });

  test("no CallKeys exist before the peer's confirm verified", async () => {
    const callId = randomCallId();
    let resolved = false;
    const p = makePair({
      callId,
      toI: (b, deliver) => (decodeKxBody(b)?.k === "confirm" ? undefined : deliver(b)),
      extra: { timeoutMs: 200 },
    });
    p.i.done.then(() => (resolved = true), () => {});
    await Promise.all([p.i.start(), p.r.start()]);
    await tick(50);
    expect(p.i.state).toBe("confirming"); // keys derived, confirm sent, peer's missing
    expect(resolved).toBe(false);
    expect(await outcome(p.i.done)).toBe("timeout");
  });
});

describe("invalid points", () => {
  test("responder's pub off the curve: initiator rejects with invalid-point and sends no reveal", async () => {
    const p = makePair({
      callId: randomCallId(),
      toI: rewrite("pub", (m) => ({ ...m, pub: offCurve((m as { pub: Uint8Array }).pub) }) as KxMessage),
    });
    await Promise.all([p.i.start(), p.r.start()]);
    expect(await outcome(p.i.done)).toBe("invalid-point");
    expect(p.sentByI.map((b) => decodeKxBody(b)?.k)).toEqual(["commit"]);
    p.r.abort();
  });

  test("reveal off the curve with a matching commitment: responder rejects with invalid-point", async () => {
    const callId = randomCallId();
    const sent: string[] = [];
    const r = new KeyExchange({ callId, role: "responder", send: (b) => sent.push(b), timeoutMs: 1000 });
    await r.start();
    const bad = offCurve(await freshPub());
    r.receive(encodeKxBody({ k: "commit", callId, h: refCommitment(unhex(callId), bad) }));
    await tick();
    expect(decodeKxBody(sent[0]!)?.k).toBe("pub");
    r.receive(encodeKxBody({ k: "reveal", callId, pub: bad }));
    expect(await outcome(r.done)).toBe("invalid-point");
  });

  test("the initiator's own key reflected as pubR: invalid-point", async () => {
    const callId = randomCallId();
    const sent: string[] = [];
    const i = new KeyExchange({ callId, role: "initiator", send: (b) => sent.push(b), timeoutMs: 1000 });
    await i.start();
    // A relay cannot know pubI before the reveal; the test reads it to model the reflection.
    const own = new Uint8Array(
      await crypto.subtle.exportKey("raw", (i as unknown as { keyPair: CryptoKeyPair }).keyPair.publicKey),
    );
    i.receive(encodeKxBody({ k: "pub", callId, pub: own }));
    expect(await outcome(i.done)).toBe("invalid-point");
  });

  test.each([
    ["compressed-style prefix", (p: Uint8Array) => Uint8Array.of(0x02, ...p.subarray(1))],
    ["all zero after 0x04", () => Uint8Array.of(0x04, ...new Uint8Array(64))],
    ["x = p (out of range)", () => unhex("04" + "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff" + "00".repeat(32))],
    ["y negated off by one", (p: Uint8Array) => offCurve(p)],
  ])("%s → invalid-point", async (_name, make) => {
    const callId = randomCallId();
    const i = new KeyExchange({ callId, role: "initiator", send: () => {}, timeoutMs: 1000 });
    await i.start();
    i.receive(encodeKxBody({ k: "pub", callId, pub: make(await freshPub()) }));
    expect(await outcome(i.done)).toBe("invalid-point");
  });

  test("own on-curve check agrees with @noble/curves on valid and invalid points", async () => {
    for (let n = 0; n < 50; n++) {
      const good = await freshPub();
      expect(isValidUncompressedP256Point(good)).toBe(true);
      const bad = offCurve(good);
      let nobleOk = true;
      try {
        p256.ProjectivePoint.fromHex(bad).assertValidity();
      } catch {
        nobleOk = false;
      }
      expect(isValidUncompressedP256Point(bad)).toBe(nobleOk);
      const random = Uint8Array.of(4, ...crypto.getRandomValues(new Uint8Array(64)));
      expect(isValidUncompressedP256Point(random)).toBe(false);
    }
  });
});

describe("foreign and mis-addressed messages", () => {
  test("a complete exchange for another callId does not affect this one", async () => {
    const callId = randomCallId();
    const other = makePair({ callId: randomCallId() });
    const p = makePair({ callId });
    // Every message of the other call is also thrown at this call's parties, before they start.
    await Promise.all([other.i.start(), other.r.start()]);
    await Promise.all([other.i.done, other.r.done]);
    for (const b of [...other.sentByI, ...other.sentByR]) {
      p.i.receive(b);
      p.r.receive(b);
    }
    const [ki, kr] = await Promise.all([p.i.start().then(() => p.i.done), p.r.start().then(() => p.r.done)]);
    expect(ki.sas.bits).toBe(kr.sas.bits);
  });
});
