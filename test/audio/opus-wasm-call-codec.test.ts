// A call's WebAssembly Opus halves outlive the page worker they started on (opus-wasm-call-codec.ts).
// The worker here is a stand-in with the OpusWasmWorker surface the call codec uses; the real
// worker dying in a real call is covered in test/browser/opus-wasm-call.test.ts.
import { describe, expect, test } from "vitest";
import { OpusWasmCallCodec } from "../../pwa/audio/opus-wasm-call-codec.ts";
import type { OpusWasmWorker } from "../../pwa/audio/opus-wasm-codec.ts";

class StandInWorker {
  alive = true;
  resets = 0;
  encoded = 0;
  decoded = 0;
  private listeners: (() => void)[] = [];
  constructor(readonly name: string) {}
  reset() {
    this.resets++;
  }
  encoder(sink: (p: Uint8Array) => void) {
    return {
      codec: "opus" as const,
      encode: () => {
        if (!this.alive) return false;
        this.encoded++;
        sink(new Uint8Array([this.name.charCodeAt(0)]));
        return true;
      },
      close: () => {},
    };
  }
  decoder() {
    return {
      codec: "opus" as const,
      decode: async () => {
        this.decoded++;
        return new Float32Array(960).fill(this.name === "first" ? 0.1 : 0.2);
      },
      close: () => {},
    };
  }
  onDeath(fn: () => void) {
    this.listeners.push(fn);
    return () => void (this.listeners = this.listeners.filter((l) => l !== fn));
  }
  kill() {
    this.alive = false;
    for (const fn of this.listeners.splice(0)) fn();
  }
  get listening() {
    return this.listeners.length;
  }
}

const asWorker = (w: StandInWorker) => w as unknown as OpusWasmWorker;
const tick = () => new Promise((r) => setTimeout(r, 0));

describe("WebAssembly Opus for one call", () => {
  test("the worker dies mid-call: frames are refused and silence decoded until the call has moved to a new worker, then both halves run there", async () => {
    const first = new StandInWorker("first");
    let release!: (w: OpusWasmWorker) => void;
    const second = new StandInWorker("second");
    const codec = new OpusWasmCallCodec(asWorker(first), () => new Promise((r) => (release = r)));
    const sent: number[] = [];
    const enc = codec.encoder((p) => sent.push(p[0]!));
    const dec = codec.decoder();
    expect(enc.encode(new Float32Array(960))).toBe(true);
    expect((await dec.decode(new Uint8Array([1])))[0]).toBeCloseTo(0.1);

    first.kill();
    expect(enc.encode(new Float32Array(960))).toBe(false); // call-audio.ts skips its seq
    expect((await dec.decode(new Uint8Array([1])))[0]).toBe(0);
    expect(codec.revivals).toBe(0); // counted once the call has moved

    release(asWorker(second));
    await tick();
    expect(second.resets).toBe(1);
    expect(codec.revivals).toBe(1);
    expect(enc.encode(new Float32Array(960))).toBe(true);
    expect((await dec.decode(new Uint8Array([1])))[0]).toBeCloseTo(0.2);
    expect(sent).toEqual(["f".charCodeAt(0), "s".charCodeAt(0)]);
    expect([first.encoded, second.encoded, first.decoded, second.decoded]).toEqual([1, 1, 1, 1]);
  });

  test("the frames the dead worker was still encoding are reported lost once, so their sequence numbers can be skipped", async () => {
    const first = new StandInWorker("first");
    const codec = new OpusWasmCallCodec(asWorker(first), () => new Promise(() => {}));
    let lost = 0;
    const enc = codec.encoder(() => {}, () => lost++);
    codec.decoder();
    enc.encode(new Float32Array(960));
    first.kill();
    expect(lost).toBe(1);
    first.kill();
    expect(lost).toBe(1);
  });

  test("a worker that keeps dying is replaced at most three times in a call", async () => {
    const workers: StandInWorker[] = [];
    const first = new StandInWorker("first");
    const codec = new OpusWasmCallCodec(asWorker(first), async () => {
      const w = new StandInWorker(`w${workers.length}`);
      workers.push(w);
      return asWorker(w);
    });
    const enc = codec.encoder(() => {});
    codec.decoder();
    first.kill();
    for (let i = 0; i < 5; i++) {
      await tick();
      workers.at(-1)?.kill();
    }
    await tick();
    expect(workers).toHaveLength(3);
    expect(codec.revivals).toBe(3);
    expect(enc.encode(new Float32Array(960))).toBe(false);
  });

  test("after the call the page's worker keeps nothing of it, and its death restarts nothing", async () => {
    const first = new StandInWorker("first");
    let asked = 0;
    const codec = new OpusWasmCallCodec(asWorker(first), async () => (asked++, asWorker(new StandInWorker("second"))));
    expect(first.listening).toBe(0); // nothing until the call makes its halves (a failed start leaves nothing)
    const enc = codec.encoder(() => {});
    const dec = codec.decoder();
    expect(first.listening).toBe(1);
    enc.close();
    dec.close();
    expect(first.listening).toBe(0);
    first.kill();
    await tick();
    expect(asked).toBe(0);
  });
});
