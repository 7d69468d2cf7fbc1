// PROTOCOL.md §6/§7: sealing, opening, tampering, replay, ratchet, nonce uniqueness, grace.

import { describe, expect, test } from "vitest";
import { FrameOpener, GRACE_MS, MAX_EPOCH_SKIP } from "../../pwa/e2ee/frame-opener.ts";
import { FrameSealer, RATCHET_INTERVAL } from "../../pwa/e2ee/frame-sealer.ts";
import { importEpochKeys } from "../../pwa/e2ee/ratchet.ts";
import { hex, refEpochKeys, refNonce, refOpen } from "./reference-impl.ts";

const te = new TextEncoder();
const K = crypto.getRandomValues(new Uint8Array(32));
const S = crypto.getRandomValues(new Uint8Array(12));

// importEpochKeys wipes the raw key it is given, so every call gets its own copy.
const sealer = async (opts = {}) => new FrameSealer(await importEpochKeys(K.slice(), S, "encrypt"), opts);
function fakeClock() {
  const c = { t: 1000, now: () => c.t };
  return c;
}
const opener = async (clock?: () => number) =>
  new FrameOpener(await importEpochKeys(K.slice(), S, "decrypt"), clock ? { clock } : {});

function headerOf(f: Uint8Array) {
  const v = new DataView(f.buffer, f.byteOffset);
  return { type: f[0], callHandle: v.getUint32(1), epoch: f[5]!, seq: v.getUint16(6) * 2 ** 32 + v.getUint32(8) };
}

describe("seal/open", () => {
  test("round trip; seq starts at 0 and counts up; header layout", async () => {
    const s = await sealer();
    const o = await opener();
    for (let i = 0; i < 5; i++) {
      const payload = te.encode(`frame ${i}`);
      const f = await s.seal(0xdeadbeef, payload);
      expect(headerOf(f)).toEqual({ type: 1, callHandle: 0xdeadbeef, epoch: 0, seq: i });
      expect(f.byteLength).toBe(12 + payload.byteLength + 16);
      expect(await o.open(f)).toEqual({ callHandle: 0xdeadbeef, epoch: 0, seq: i, payload });
      // Independently decryptable with the raw key: proves the nonce construction.
      expect(refOpen(K, S, f)).toEqual(payload);
    }
    expect(o.stats).toMatchObject({ opened: 5, authFailed: 0, replayed: 0, tooOld: 0, malformed: 0 });
  });

  test("skip(n) leaves n seqs out (frames the sender dropped), across an epoch boundary too", async () => {
    const s = await sealer({ ratchetInterval: 4 });
    const o = await opener();
    const f0 = await s.seal(7, te.encode("a"));
    s.skip(5);
    const f6 = await s.seal(7, te.encode("b"));
    expect(headerOf(f0)).toMatchObject({ epoch: 0, seq: 0 });
    expect(headerOf(f6)).toMatchObject({ epoch: 1, seq: 6 });
    expect((await o.open(f0))?.seq).toBe(0);
    expect((await o.open(f6))?.payload).toEqual(te.encode("b"));
    expect(() => s.skip(-1)).toThrow(RangeError);
  });

  test("empty payload works", async () => {
    const f = await (await sealer()).seal(1, new Uint8Array(0));
    expect((await (await opener()).open(f))?.payload).toEqual(new Uint8Array(0));
  });

  test("payloads and frames in SharedArrayBuffer-backed views (audio worklets) work", async () => {
    const shared = (b: Uint8Array) => {
      const v = new Uint8Array(new SharedArrayBuffer(b.byteLength + 3), 3);
      v.set(b);
      return v;
    };
    const f = await (await sealer()).seal(1, shared(te.encode("worklet")));
    expect((await (await opener()).open(shared(f)))?.payload).toEqual(te.encode("worklet"));
  });

  test("bad callHandle throws without consuming a seq", async () => {
    const s = await sealer();
    await expect(s.seal(2 ** 32, new Uint8Array(1))).rejects.toThrow();
    await expect(s.seal(-1, new Uint8Array(1))).rejects.toThrow();
    expect(headerOf(await s.seal(1, new Uint8Array(1))).seq).toBe(0);
  });

  test("every tampered header byte, ciphertext byte and tag byte is rejected and counted", async () => {
    const s = await sealer();
    const o = await opener();
    const f = await s.seal(77, te.encode("secret audio"));
    let expectedAuthFailed = 0;
    for (let i = 0; i < f.byteLength; i++) {
      const t = f.slice();
      t[i]! ^= 0x01;
      expect(await o.open(t), `byte ${i}`).toBeNull();
      if (i === 0) expect(o.stats.malformed).toBe(1); // type byte: not a media frame
      else expect(o.stats.authFailed).toBe(++expectedAuthFailed);
    }
    expect(o.stats.opened).toBe(0);
    expect(o.epoch).toBe(0); // the epoch-byte forgery did not move the receiver
    expect((await o.open(f))?.payload).toEqual(te.encode("secret audio"));
  });

  test("malformed input is counted, never throws", async () => {
    const o = await opener();
    expect(await o.open(new Uint8Array(0))).toBeNull();
    expect(await o.open(new Uint8Array(27))).toBeNull();
    expect(await o.open("nope" as unknown as Uint8Array)).toBeNull();
    expect(o.stats.malformed).toBe(3);
    expect(await o.open(new Uint8Array(28).fill(1))).toBeNull(); // right shape, wrong key
    expect(o.stats.authFailed).toBe(1);
  });

  test("a frame sealed for the other direction (other key) does not open", async () => {
    const other = new FrameSealer(
      await importEpochKeys(crypto.getRandomValues(new Uint8Array(32)), S, "encrypt"),
    );
    const o = await opener();
    expect(await o.open(await other.seal(1, te.encode("x")))).toBeNull();
    expect(o.stats.authFailed).toBe(1);
  });
});

describe("replay protection", () => {
  test("a replayed frame is dropped and counted, never returned", async () => {
    const s = await sealer();
    const o = await opener();
    const f0 = await s.seal(1, te.encode("a"));
    const f1 = await s.seal(1, te.encode("b"));
    expect((await o.open(f1))?.seq).toBe(1);
    expect((await o.open(f0))?.seq).toBe(0); // late but inside the window: fine
    expect(await o.open(f0)).toBeNull();
    expect(await o.open(f1)).toBeNull();
    expect(o.stats).toMatchObject({ opened: 2, replayed: 2 });
  });

  test("frames older than the 128 window are dropped as tooOld", async () => {
    const s = await sealer();
    const o = await opener();
    const frames: Uint8Array[] = [];
    for (let i = 0; i <= 200; i++) frames.push(await s.seal(1, te.encode(String(i))));
    expect((await o.open(frames[200]!))?.seq).toBe(200);
    expect(await o.open(frames[72]!)).toBeNull(); // 128 behind
    expect(await o.open(frames[0]!)).toBeNull();
    expect(o.stats.tooOld).toBe(2);
    expect((await o.open(frames[73]!))?.seq).toBe(73); // 127 behind: still inside
    expect(o.stats.opened).toBe(2);
  });

  test("a forged frame with a huge seq does not advance the window", async () => {
    const s = await sealer();
    const o = await opener();
    const f0 = await s.seal(1, te.encode("a"));
    const forged = f0.slice();
    forged.set([0, 0, 0, 1, 0, 0], 6); // seq 65536 in the header, tag no longer valid
    expect(await o.open(forged)).toBeNull();
    expect(o.stats.authFailed).toBe(1);
    expect((await o.open(f0))?.seq).toBe(0);
  });

  test("concurrent open() of the same frame returns it once", async () => {
    const s = await sealer();
    const o = await opener();
    const f = await s.seal(1, te.encode("a"));
    const results = await Promise.all([o.open(f), o.open(f), o.open(f)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(o.stats.replayed).toBe(2);
  });
});

describe("ratchet (§7)", () => {
  test("nonce uniqueness: every (key, nonce) distinct across several epochs; reference decrypts each", async () => {
    const interval = 16;
    const s = await sealer({ ratchetInterval: interval });
    const pairs = new Set<string>();
    const epochNonces = new Set<string>();
    const total = interval * 4 + 5;
    for (let seq = 0; seq < total; seq++) {
      const f = await s.seal(5, te.encode(`p${seq}`));
      const h = headerOf(f);
      expect(h.seq).toBe(seq);
      expect(h.epoch).toBe(Math.floor(seq / interval));
      const k = refEpochKeys(K, S, h.epoch);
      expect(refOpen(k.k, k.s, f), `seq ${seq}`).toEqual(te.encode(`p${seq}`));
      pairs.add(hex(k.k) + hex(refNonce(k.s, h.epoch, h.seq)));
      epochNonces.add(`${h.epoch}:${hex(refNonce(k.s, h.epoch, h.seq))}`);
    }
    expect(pairs.size).toBe(total);
    expect(epochNonces.size).toBe(total);
  });

  test("at the real 2^16 boundary the sealer moves to epoch 1 and the opener follows", async () => {
    expect(RATCHET_INTERVAL).toBe(65536);
    const s = await sealer({ startSeq: 65533 });
    const o = await opener();
    const got = [];
    for (let i = 0; i < 6; i++) {
      const f = await s.seal(9, te.encode(`x${i}`));
      const h = headerOf(f);
      const k = refEpochKeys(K, S, h.epoch);
      expect(refOpen(k.k, k.s, f)).toEqual(te.encode(`x${i}`));
      got.push(await o.open(f));
    }
    expect(got.map((g) => [g?.epoch, g?.seq])).toEqual([
      [0, 65533],
      [0, 65534],
      [0, 65535],
      [1, 65536],
      [1, 65537],
      [1, 65538],
    ]);
    expect(o.epoch).toBe(1);
  });

  test("concurrent seals across epoch boundaries never share a seq and all decrypt", async () => {
    const s = await sealer({ ratchetInterval: 8 });
    const frames = await Promise.all(Array.from({ length: 40 }, (_, i) => s.seal(1, te.encode(`c${i}`))));
    const seqs = frames.map((f) => headerOf(f).seq);
    expect(new Set(seqs).size).toBe(40);
    frames.forEach((f, i) => {
      const h = headerOf(f);
      const k = refEpochKeys(K, S, h.epoch);
      expect(refOpen(k.k, k.s, f)).toEqual(te.encode(`c${i}`));
    });
  });

  test("previous epoch stays open for the 2 s grace, then is erased", async () => {
    const clock = fakeClock();
    const s = await sealer({ ratchetInterval: 4 });
    const o = await opener(clock.now);
    const e0 = [];
    for (let i = 0; i < 4; i++) e0.push(await s.seal(1, te.encode(`e0-${i}`)));
    const e1a = await s.seal(1, te.encode("e1-4"));
    const e1b = await s.seal(1, te.encode("e1-5"));
    expect((await o.open(e0[0]!))?.epoch).toBe(0);
    expect((await o.open(e1a))?.epoch).toBe(1); // switch happens at t = 1000
    expect(o.epoch).toBe(1);
    clock.t += GRACE_MS - 1;
    expect((await o.open(e0[1]!))?.seq).toBe(1); // late epoch-0 frame within grace
    expect(await o.open(e0[1]!)).toBeNull(); // its window survived the switch
    expect(o.stats.replayed).toBe(1);
    clock.t += 1;
    expect(await o.open(e0[2]!)).toBeNull(); // grace over: epoch 0 erased
    expect(o.stats.tooOld).toBe(1);
    expect((await o.open(e1b))?.seq).toBe(5);
  });

  test("with the real clock, the previous epoch's keys are erased by a timer even if no frame comes", async () => {
    const s = await sealer({ ratchetInterval: 2 });
    const o = await opener();
    const frames = [];
    for (let i = 0; i < 3; i++) frames.push(await s.seal(1, te.encode(`${i}`)));
    await o.open(frames[0]!);
    await o.open(frames[2]!); // epoch 1
    const internals = o as unknown as { previous: { keys: { salt: Uint8Array } } | null };
    const salt = internals.previous!.keys.salt;
    await new Promise((r) => setTimeout(r, GRACE_MS + 150));
    expect(internals.previous).toBeNull();
    expect(salt.every((b) => b === 0)).toBe(true);
    expect(await o.open(frames[1]!)).toBeNull();
    expect(o.stats.tooOld).toBe(1);
  });

  test("opener derives forward at most MAX_EPOCH_SKIP epochs, never backwards", async () => {
    expect(MAX_EPOCH_SKIP).toBe(2);
    const s = await sealer({ ratchetInterval: 2 });
    const frames = [];
    for (let i = 0; i < 12; i++) frames.push(await s.seal(1, te.encode(`f${i}`))); // epochs 0..5
    const o = await opener(fakeClock().now);
    expect((await o.open(frames[0]!))?.epoch).toBe(0);
    expect(await o.open(frames[6]!)).toBeNull(); // epoch 3: three steps ahead
    expect(o.stats.unknownEpoch).toBe(1);
    expect(o.epoch).toBe(0);
    expect((await o.open(frames[4]!))?.epoch).toBe(2); // two steps: followed
    expect((await o.open(frames[3]!))?.epoch).toBe(1); // epoch 1 kept as "previous"
    expect(await o.open(frames[1]!)).toBeNull(); // epoch 0 erased at once (two back)
    expect(o.stats.tooOld).toBe(1);
    expect((await o.open(frames[6]!))?.epoch).toBe(3);
    expect((await o.open(frames[10]!))?.epoch).toBe(5);
    expect(o.stats.opened).toBe(5);
  });

  test("epoch 255 is the last one; sealing past it throws and consumes no seq", async () => {
    const s = await sealer({ ratchetInterval: 1, startSeq: 255 });
    const f = await s.seal(1, te.encode("last"));
    expect(headerOf(f)).toMatchObject({ epoch: 255, seq: 255 });
    const k = refEpochKeys(K, S, 255);
    expect(refOpen(k.k, k.s, f)).toEqual(te.encode("last"));
    await expect(s.seal(1, te.encode("one too many"))).rejects.toThrow(/exhausted/);
    expect(s.seq).toBe(256);
  });
});

describe("destroy", () => {
  test("a destroyed sealer refuses to seal; a destroyed opener returns null", async () => {
    const s = await sealer();
    const o = await opener();
    const f = await s.seal(1, te.encode("a"));
    s.destroy();
    await expect(s.seal(1, te.encode("b"))).rejects.toThrow(/destroyed/);
    o.destroy();
    expect(await o.open(f)).toBeNull();
  });
});

describe("keys are non-extractable", () => {
  test("media AES-GCM and ratchet keys cannot be exported; raw input is wiped", async () => {
    const raw = K.slice();
    const k = await importEpochKeys(raw, S, "encrypt");
    expect(raw.every((b) => b === 0)).toBe(true);
    expect(k.aesKey.extractable).toBe(false);
    expect(k.keyIkm.extractable).toBe(false);
    expect(k.aesKey.usages).toEqual(["encrypt"]);
    await expect(crypto.subtle.exportKey("raw", k.aesKey)).rejects.toThrow();
    await expect(crypto.subtle.exportKey("raw", k.keyIkm)).rejects.toThrow();
  });
});
