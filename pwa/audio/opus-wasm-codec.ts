// Opus through WebAssembly (libopus 1.6 from the libopus-wasm package), for browsers whose
// WebCodecs has no Opus encoder or decoder (older Safari, Firefox for Android). Same codec on
// the wire as opus-codec.ts — raw Opus packets, one per 20 ms, negotiated as "opus" — and the
// same encoder settings (opus-wasm-protocol.ts): 24 kbit/s CBR (60-byte packets: the traffic
// shape IDENTITY.md §7 needs), VoIP, no DTX, in-band FEC with a 10 % loss hint. A WASM phone and
// a WebCodecs phone therefore talk Opus to each other, and the relay sees the same frames.
//
// Decisions:
// - libopus runs in a dedicated worker (opus-wasm-worker.ts, one per page, encoder and decoder
//   together, reset for each call; a call moves to a new one if it dies, opus-wasm-call-codec.ts),
//   as WebCodecs runs its codecs off the main thread. It is started
//   and warmed up by the support probe at app start, so no call pays for compiling libopus. On the main thread it measured
//   well in a loopback test but lost in a real call on a loaded machine: the page's main thread
//   also runs the UI, the WebSocket and decryption, and every stall there became stale capture
//   frames and bunched playback (r 0.48–0.74 where the WebCodecs call kept 0.89–0.96).
// - The worker and the library are separate files (/audio/opus-worker.js, /audio/libopus.js,
//   /audio/libopus-core.js, built by opus-wasm-build.ts), started only when codec-select.ts finds
//   no WebCodecs Opus; main.js does not contain them.
// - Compiling WebAssembly needs 'wasm-unsafe-eval' in the CSP's script-src (and nothing more:
//   no eval). Where a browser blocks it anyway, or cannot start a module worker (Firefox < 114),
//   the start-up round trip fails, opusWasmWorks() says no, and the call negotiates pcmu16.
// - Concealment stays the playback worklet's (concealer.ts), exactly as for WebCodecs: the
//   decoder runs as frames arrive, while loss is only known in the worklet when a slot comes due.
//   libopus PLC/FEC would need the worklet to ask back for a frame; see docs/AUDIO.md.
import { FRAME_SAMPLES, type FrameDecoder, type FrameEncoder, type PayloadSink } from "./codec.ts";
import type { WorkerReply, WorkerRequest } from "./opus-wasm-protocol.ts";

/** Where the app serves the worker; the library files sit beside it. */
export const OPUS_WASM_WORKER_URL = "/audio/opus-worker.js";

/** Frames waiting in the worker beyond this are dropped: late audio is worse than a gap. */
const MAX_ENCODE_QUEUE = 10;
/** A worker that has not compiled libopus and answered by then is taken as not working. */
const START_TIMEOUT_MS = 10_000;

/** The worker and its libopus encoder and decoder; encoder()/decoder() hand out the two halves. */
export class OpusWasmWorker {
  private readonly packetSinks: (PayloadSink | null)[] = [];
  /** One entry per decode still in the worker; closed decoders leave no-ops so replies stay aligned. */
  private readonly pcmWaiting: ((pcm: Float32Array) => void)[] = [];
  private dead = false;
  private readonly deathListeners: (() => void)[] = [];

  private constructor(private readonly worker: Worker) {}

  /** Starts a worker and waits until libopus is compiled, warmed up and its encoder and decoder
   *  exist; rejects if that fails. */
  static start(url: string = OPUS_WASM_WORKER_URL, timeoutMs = START_TIMEOUT_MS): Promise<OpusWasmWorker> {
    return new Promise((resolve, reject) => {
      let worker: Worker;
      try {
        worker = new Worker(url, { type: "module", name: "voicesrv-opus" });
      } catch (e) {
        return reject(e);
      }
      const fail = (why: string) => {
        clearTimeout(timer);
        worker.terminate();
        reject(new Error(`WebAssembly Opus worker: ${why}`));
      };
      const timer = setTimeout(() => fail("no answer"), timeoutMs);
      worker.onerror = (e) => {
        e.preventDefault();
        fail("failed to load");
      };
      worker.onmessage = (e: MessageEvent<WorkerReply>) => {
        if (e.data.type === "failed") return fail(e.data.reason);
        if (e.data.type !== "ready") return;
        clearTimeout(timer);
        const w = new OpusWasmWorker(worker);
        worker.onmessage = (m: MessageEvent<WorkerReply>) => w.onReply(m.data);
        worker.onerror = (err) => {
          err.preventDefault();
          w.die();
        };
        resolve(w);
      };
      worker.postMessage({ type: "init" } satisfies WorkerRequest);
    });
  }

  private onReply(m: WorkerReply): void {
    if (m.type === "packet") {
      const sink = this.packetSinks.shift();
      if (m.packet && sink) sink(m.packet);
    } else if (m.type === "pcm") {
      this.pcmWaiting.shift()?.(m.pcm);
    }
  }

  /** The worker died: pending frames become silence (the concealer fades into it), later ones
   *  are dropped until the call's codec has moved to a new worker (opus-wasm-call-codec.ts). */
  private die(): void {
    this.dead = true;
    this.packetSinks.length = 0;
    for (const resolve of this.pcmWaiting.splice(0)) resolve(new Float32Array(FRAME_SAMPLES));
    this.worker.terminate();
    for (const fn of this.deathListeners.splice(0)) fn();
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** Runs `fn` once when this worker dies (at once if it already has); returns the unsubscribe. */
  onDeath(fn: () => void): () => void {
    if (this.dead) {
      fn();
      return () => {};
    }
    this.deathListeners.push(fn);
    return () => {
      const i = this.deathListeners.indexOf(fn);
      if (i >= 0) this.deathListeners.splice(i, 1);
    };
  }

  private send(m: WorkerRequest, transfer: Transferable[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  /** Fresh encoder and decoder state, for a new call. */
  reset(): void {
    if (!this.dead) this.send({ type: "reset" });
  }

  encoder(onPayload: PayloadSink): FrameEncoder {
    let open = true;
    return {
      codec: "opus",
      encode: (frame) => {
        if (!open || this.dead || this.packetSinks.length > MAX_ENCODE_QUEUE) return false;
        const pcm = frame.slice(); // the caller keeps its frame
        this.packetSinks.push(onPayload);
        this.send({ type: "encode", pcm }, [pcm.buffer]);
        return true;
      },
      close: () => {
        if (!open) return;
        open = false;
        // Payloads still in the worker belong to a pipeline that has stopped.
        for (let i = 0; i < this.packetSinks.length; i++) if (this.packetSinks[i] === onPayload) this.packetSinks[i] = null;
      },
    };
  }

  decoder(): FrameDecoder {
    let open = true;
    const mine = new Set<(pcm: Float32Array) => void>();
    return {
      codec: "opus",
      decode: (payload) =>
        new Promise<Float32Array>((resolve) => {
          if (!open || this.dead) return resolve(new Float32Array(FRAME_SAMPLES));
          const done = (pcm: Float32Array) => {
            mine.delete(done);
            resolve(pcm);
          };
          mine.add(done);
          this.pcmWaiting.push(done);
          const packet = payload.slice();
          this.send({ type: "decode", packet }, [packet.buffer]);
        }),
      close: () => {
        if (!open) return;
        open = false;
        // Frames still in the worker resolve as silence now; their replies are then ignored.
        for (let i = 0; i < this.pcmWaiting.length; i++) {
          const waiting = this.pcmWaiting[i]!;
          if (!mine.has(waiting)) continue;
          waiting(new Float32Array(FRAME_SAMPLES));
          this.pcmWaiting[i] = () => {};
        }
      },
    };
  }

  private static shared: Promise<OpusWasmWorker> | null = null;

  /** The page's worker, started (and warmed up) once: by the support probe at app start, so a
   *  call finds libopus compiled and optimised. A dead worker is replaced on the next call. */
  static forPage(url?: string): Promise<OpusWasmWorker> {
    const current = OpusWasmWorker.shared;
    if (current) {
      return current.then((w) => (w.alive ? w : OpusWasmWorker.restart(url)));
    }
    return OpusWasmWorker.restart(url);
  }

  private static restart(url?: string): Promise<OpusWasmWorker> {
    const started = OpusWasmWorker.start(url).then((w) => {
      w.onDeath(() => {
        if (OpusWasmWorker.shared === started) OpusWasmWorker.shared = null;
      });
      return w;
    });
    OpusWasmWorker.shared = started;
    started.catch(() => {
      if (OpusWasmWorker.shared === started) OpusWasmWorker.shared = null;
    });
    return started;
  }
}

/** The fallback works here: a worker started, compiled libopus (WebAssembly exists, the CSP
 *  allows it, the files were served) and round-tripped a frame. */
export async function opusWasmWorks(url?: string): Promise<boolean> {
  if (typeof WebAssembly !== "object" || typeof Worker !== "function") return false;
  let w: OpusWasmWorker;
  try {
    w = await OpusWasmWorker.forPage(url);
  } catch {
    return false;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), START_TIMEOUT_MS)));
  let gotPacket!: (p: Uint8Array) => void;
  const packet = new Promise<Uint8Array>((resolve) => (gotPacket = resolve));
  const enc = w.encoder((p) => gotPacket(p));
  const dec = w.decoder();
  try {
    if (!enc.encode(new Float32Array(FRAME_SAMPLES))) return false;
    const p = await Promise.race([packet, timeout]);
    if (!p || p.byteLength === 0) return false;
    const pcm = await Promise.race([dec.decode(p), timeout]);
    return pcm?.length === FRAME_SAMPLES;
  } finally {
    clearTimeout(timer);
    enc.close();
    dec.close();
  }
}
