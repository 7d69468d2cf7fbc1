// PROTOCOL.md §2/§4 between honest parties: full exchange, robustness against a messy relay,
// timeouts and aborts.

import { describe, expect, test } from "vitest";
import { decodeKxBody, encodeKxBody, KeyExchange, KeyExchangeError } from "../../pwa/e2ee/index.ts";
import { generateEphemeralKeyPair } from "../../pwa/e2ee/ecdh.ts";
import { type Intercept, makePair, outcome, randomCallId } from "./channel.ts";

const te = new TextEncoder();

async function run(p: ReturnType<typeof makePair>) {
  await Promise.all([p.i.start(), p.r.start()]);
  return Promise.all([p.i.done, p.r.done]);
}

describe("full exchange", () => {
  test("both sides resolve with the same SAS; frames open on the other side both ways", async () => {
    const p = makePair({ callId: randomCallId() });
    const [ki, kr] = await run(p);
    expect(ki.sas.bits).toBe(kr.sas.bits);
    expect(ki.sas.bits).toBeGreaterThanOrEqual(0);
    expect(ki.sas.bits).toBeLessThan(2 ** 24);
    expect(ki.sas.symbols).toHaveLength(4);
    expect(ki.sas.symbols).toEqual(kr.sas.symbols);
    expect(p.sentByI.map((b) => decodeKxBody(b)?.k)).toEqual(["commit", "reveal", "confirm"]);
    expect(p.sentByR.map((b) => decodeKxBody(b)?.k)).toEqual(["pub", "confirm"]);

    for (let n = 0; n < 3; n++) {
      const fromI = await ki.sealer.seal(42, te.encode(`I says ${n}`));
      const fromR = await kr.sealer.seal(42, te.encode(`R says ${n}`));
      // Own frames do not open with the own opener: the directions use different keys.
      expect(await ki.opener.open(fromI)).toBeNull();
      expect((await kr.opener.open(fromI))?.payload).toEqual(te.encode(`I says ${n}`));
      expect((await ki.opener.open(fromR))?.payload).toEqual(te.encode(`R says ${n}`));
    }
    expect(ki.opener.stats.authFailed).toBe(3);
  });

  test("two calls between the same people get unrelated keys and SAS", async () => {
    const [a] = await run(makePair({ callId: randomCallId() }));
    const [b] = await run(makePair({ callId: randomCallId() }));
    const frame = await a.sealer.seal(1, te.encode("x"));
    expect(await b.opener.open(frame)).toBeNull();
  });

  test("a ratchet inside a real exchange is followed by the peer (test-only short interval)", async () => {
    const p = makePair({ callId: randomCallId(), ratchetInterval: 3 });
    const [ki, kr] = await run(p);
    for (let i = 0; i < 10; i++) {
      const got = await kr.opener.open(await ki.sealer.seal(1, te.encode(`${i}`)));
      expect(got).toMatchObject({ seq: i, epoch: Math.floor(i / 3) });
    }
  });

  test("messages that arrive before start() are queued, not lost", async () => {
    const callId = randomCallId();
    const p = makePair({ callId });
    await p.i.start(); // commit goes out while the responder has not started yet
    await new Promise((r) => setTimeout(r, 10));
    await p.r.start();
    const [ki, kr] = await Promise.all([p.i.done, p.r.done]);
    expect(ki.sas.bits).toBe(kr.sas.bits);
  });

  test("a synchronous relay (answers from inside send) works", async () => {
    const callId = randomCallId();
    const box = {} as { i: KeyExchange; r: KeyExchange };
    box.i = new KeyExchange({ callId, role: "initiator", send: (b) => box.r.receive(b) });
    box.r = new KeyExchange({ callId, role: "responder", send: (b) => box.i.receive(b) });
    await box.r.start();
    await box.i.start();
    const [ki, kr] = await Promise.all([box.i.done, box.r.done]);
    expect(ki.sas.bits).toBe(kr.sas.bits);
  });

  test("start() twice is harmless", async () => {
    const p = makePair({ callId: randomCallId() });
    await Promise.all([p.i.start(), p.i.start(), p.r.start()]);
    const [ki, kr] = await Promise.all([p.i.done, p.r.done]);
    expect(ki.sas.bits).toBe(kr.sas.bits);
    expect(p.sentByI.filter((b) => decodeKxBody(b)?.k === "commit")).toHaveLength(1);
  });
});

describe("a messy relay is tolerated", () => {
  const garbage = (callId: string) => [
    "",
    "not json",
    "{}",
    "null",
    "[1,2,3]",
    '{"k":"commit"}',
    '{"k":"pub","c":"' + callId + '","p":"@@@"}',
    "x".repeat(5000),
    encodeKxBody({ k: "confirm", callId: randomCallId(), mac: new Uint8Array(32) }), // foreign call
    encodeKxBody({ k: "commit", callId: randomCallId(), h: new Uint8Array(32) }), // foreign call
    JSON.stringify({ k: "pub", c: callId.toUpperCase(), p: "A".repeat(87) }),
  ];

  test("garbage before, between and after every message; every message duplicated", async () => {
    const callId = randomCallId();
    const noisy: Intercept = (body, deliver) => {
      for (const g of garbage(callId)) deliver(g);
      deliver(body);
      deliver(body);
      for (const g of garbage(callId)) deliver(g);
    };
    const p = makePair({ callId, toR: noisy, toI: noisy });
    const [ki, kr] = await run(p);
    expect(ki.sas.bits).toBe(kr.sas.bits);
    expect((await kr.opener.open(await ki.sealer.seal(1, te.encode("ok"))))?.payload).toEqual(te.encode("ok"));
  });

  test("the initiator's confirm overtakes its reveal; the responder holds it until it has keys", async () => {
    const callId = randomCallId();
    let heldReveal: (() => void) | null = null;
    const reorder: Intercept = (body, deliver) => {
      const k = decodeKxBody(body)?.k;
      if (k === "reveal") heldReveal = () => deliver(body);
      else if (k === "confirm") {
        deliver(body);
        setTimeout(() => heldReveal!(), 5);
      } else deliver(body);
    };
    const p = makePair({ callId, toR: reorder });
    const [ki, kr] = await run(p);
    expect(ki.sas.bits).toBe(kr.sas.bits);
  });

  test("messages reflected back to their sender are ignored", async () => {
    const callId = randomCallId();
    const pair = {} as { p: ReturnType<typeof makePair> };
    const echoToI: Intercept = (body, deliver) => {
      deliver(body);
      setTimeout(() => pair.p.i.receive(body), 0);
    };
    const echoToR: Intercept = (body, deliver) => {
      deliver(body);
      setTimeout(() => pair.p.r.receive(body), 0);
    };
    pair.p = makePair({ callId, toR: echoToI, toI: echoToR });
    const [ki, kr] = await run(pair.p);
    expect(ki.sas.bits).toBe(kr.sas.bits);
  });

  test("a pub the initiator sees before it sent its commit is ignored", async () => {
    const callId = randomCallId();
    const other = await generateEphemeralKeyPair();
    const pub = new Uint8Array(await crypto.subtle.exportKey("raw", other.publicKey));
    const p = makePair({ callId });
    p.i.receive(encodeKxBody({ k: "pub", callId, pub })); // queued before start, then ignored
    const [ki, kr] = await run(p);
    expect(ki.sas.bits).toBe(kr.sas.bits);
  });

  test("a reveal the responder sees before it sent pub is ignored", async () => {
    const callId = randomCallId();
    const other = await generateEphemeralKeyPair();
    const pub = new Uint8Array(await crypto.subtle.exportKey("raw", other.publicKey));
    const p = makePair({ callId });
    await p.r.start();
    p.r.receive(encodeKxBody({ k: "reveal", callId, pub }));
    await new Promise((r) => setTimeout(r, 10));
    expect(p.r.state).toBe("await-commit");
    await p.i.start();
    const [ki, kr] = await Promise.all([p.i.done, p.r.done]);
    expect(ki.sas.bits).toBe(kr.sas.bits);
  });
});

describe("timeouts and aborts", () => {
  test("no answer: the initiator rejects with timeout", async () => {
    const kx = new KeyExchange({ callId: randomCallId(), role: "initiator", send: () => {}, timeoutMs: 50 });
    await kx.start();
    const err = await kx.done.catch((e) => e);
    expect(err).toBeInstanceOf(KeyExchangeError);
    expect(err.reason).toBe("timeout");
  });

  test("a responder that never gets the reveal times out too", async () => {
    const callId = randomCallId();
    const dropReveal: Intercept = (body, deliver) => {
      if (decodeKxBody(body)?.k !== "reveal") deliver(body);
    };
    const p = makePair({ callId, toR: dropReveal, extra: { timeoutMs: 100 } });
    await Promise.all([p.i.start(), p.r.start()]);
    expect(await outcome(p.r.done)).toBe("timeout");
    expect(await outcome(p.i.done)).toBe("timeout"); // never got the responder's confirm
  });

  test("default timeout is 10 s", async () => {
    const { DEFAULT_KX_TIMEOUT_MS } = await import("../../pwa/e2ee/index.ts");
    expect(DEFAULT_KX_TIMEOUT_MS).toBe(10_000);
  });

  test("abort() before completion rejects with aborted and stops the exchange", async () => {
    const sent: string[] = [];
    const kx = new KeyExchange({ callId: randomCallId(), role: "initiator", send: (b) => sent.push(b), timeoutMs: 50 });
    await kx.start();
    kx.abort();
    expect(await outcome(kx.done)).toBe("aborted");
    await new Promise((r) => setTimeout(r, 80)); // the timer was stopped: still "aborted"
    expect(await outcome(kx.done)).toBe("aborted");
    expect(sent).toHaveLength(1);
  });

  test("abort() after completion destroys the call keys", async () => {
    const p = makePair({ callId: randomCallId() });
    const [ki] = await run(p);
    p.i.abort();
    await expect(ki.sealer.seal(1, te.encode("x"))).rejects.toThrow(/destroyed/);
  });

  test("CallKeys.destroy() drops both directions", async () => {
    const p = makePair({ callId: randomCallId() });
    const [ki, kr] = await run(p);
    const f = await kr.sealer.seal(1, te.encode("x"));
    ki.destroy();
    await expect(ki.sealer.seal(1, te.encode("x"))).rejects.toThrow();
    expect(await ki.opener.open(f)).toBeNull();
  });

  test("constructor validates its options", () => {
    const send = () => {};
    expect(() => new KeyExchange({ callId: "abc", role: "initiator", send })).toThrow();
    expect(() => new KeyExchange({ callId: "g".repeat(32), role: "initiator", send })).toThrow();
    expect(() => new KeyExchange({ callId: randomCallId(), role: "caller" as never, send })).toThrow();
    expect(() => new KeyExchange({ callId: randomCallId(), role: "initiator", send, timeoutMs: 0 })).toThrow();
  });
});

describe("keys are non-extractable", () => {
  test("fresh ephemeral private key, media keys and ratchet keys cannot be exported", async () => {
    const kp = await generateEphemeralKeyPair();
    expect(kp.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey("pkcs8", kp.privateKey)).rejects.toThrow();
    await expect(crypto.subtle.exportKey("jwk", kp.privateKey)).rejects.toThrow();

    const p = makePair({ callId: randomCallId() });
    await Promise.all([p.i.start(), p.r.start()]);
    // The key pair KeyExchange generated itself (TS-private field, read for this check only).
    const own = (p.i as unknown as { keyPair: CryptoKeyPair | null }).keyPair;
    if (own) {
      expect(own.privateKey.extractable).toBe(false);
      await expect(crypto.subtle.exportKey("pkcs8", own.privateKey)).rejects.toThrow();
    }
    const [ki] = await Promise.all([p.i.done, p.r.done]);
    expect((p.i as unknown as { keyPair: unknown }).keyPair).toBeNull(); // dropped after ECDH
    const sealKeys = (ki.sealer as unknown as { current: { aesKey: CryptoKey; keyIkm: CryptoKey } }).current;
    const openKeys = (ki.opener as unknown as { current: { keys: { aesKey: CryptoKey; keyIkm: CryptoKey } } }).current
      .keys;
    for (const key of [sealKeys.aesKey, sealKeys.keyIkm, openKeys.aesKey, openKeys.keyIkm]) {
      expect(key.extractable).toBe(false);
      await expect(crypto.subtle.exportKey("raw", key)).rejects.toThrow();
    }
  });

  test("a test-injected key pair must be non-extractable too", async () => {
    const kp = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, [
      "deriveBits",
    ])) as CryptoKeyPair;
    expect(
      () =>
        new KeyExchange({ callId: randomCallId(), role: "initiator", send: () => {}, unsafeTestOnly: { keyPair: kp } }),
    ).toThrow(/non-extractable/);
  });
});
