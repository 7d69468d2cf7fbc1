// One call's media inside the link host: the frame pipeline (codecs, in-order decoding) plus the
// frame encryption (PROTOCOL.md §6–§7) and the constant-size slots (IDENTITY.md §7), between the
// audio worklets' ports and the link's socket.
//
// Decisions:
// - The session starts before the keys are confirmed (the codecs are made while the keys are
//   exchanged, so nothing is set up when the first words are spoken) with sending off; until
//   setKeys() every received frame is dropped (counted apart: the peer may simply have confirmed
//   first) and nothing can be sent.
// - The keys arrive as the epoch-0 CryptoKeys handed off by the page's key exchange
//   (CallKeys.handOff); the sealer and opener here are the only ones of the call from then on.
// - A payload that does not fit its slot is dropped, never sent at a telling size; its seq is
//   used up all the same (the receiver's only clock for us).
import { codecPair, type OpusPaths } from "../audio/codec-select.ts";
import type { CodecName } from "../audio/codec.ts";
import { FramePipeline, type FramePort } from "../audio/frame-pipeline.ts";
import { FrameOpener } from "../e2ee/frame-opener.ts";
import { padPayload, unpadPayload } from "../e2ee/frame-padding.ts";
import { FrameSealer } from "../e2ee/frame-sealer.ts";
import { dropEpochKeys } from "../e2ee/ratchet.ts";
import type { MediaKeys } from "../e2ee/key-exchange.ts";
import type { MediaStats } from "./link-protocol.ts";

export interface MediaSessionSetup {
  capture: FramePort;
  playback: FramePort;
  codec: CodecName;
  paths: OpusPaths | null;
  sending: boolean;
  /** Hands a sealed frame to the link's socket; false = not sent (no socket, or backed up). */
  sendFrame: (frame: Uint8Array<ArrayBuffer>) => boolean;
  onCapturedPcm?: (pcm: Float32Array, atMs: number) => void;
}

interface Secured {
  sealer: FrameSealer;
  opener: FrameOpener;
  callHandle: number;
  slot: number;
}

/** Both directions' keys, dropped as the ratchet drops an epoch's (only the salts can be wiped). */
export function wipeMediaKeys(keys: MediaKeys): void {
  dropEpochKeys(keys.seal.keys);
  dropEpochKeys(keys.open);
}

export class MediaSession {
  private secured: Secured | null = null;
  private stopped = false;
  private sent = 0;
  private dropped = 0;
  private beforeKeys = 0;
  private unsent = 0;

  private constructor(
    private readonly pipeline: FramePipeline,
    private readonly sendFrame: (frame: Uint8Array<ArrayBuffer>) => boolean,
  ) {}

  /** Rejects when this side cannot run the codec (then nothing is left running). */
  static async start(setup: MediaSessionSetup): Promise<MediaSession> {
    const codecs = await codecPair(setup.codec, Promise.resolve(setup.paths));
    let session: MediaSession | null = null;
    const pipeline = new FramePipeline(codecs, setup.capture, setup.playback, {
      sending: setup.sending,
      sendPayload: (payload) => session?.seal(payload),
      skipFrames: (n) => session?.secured?.sealer.skip(n),
      ...(setup.onCapturedPcm ? { onCapturedPcm: setup.onCapturedPcm } : {}),
    });
    session = new MediaSession(pipeline, setup.sendFrame);
    return session;
  }

  setKeys(keys: MediaKeys, callHandle: number, slot: number): void {
    if (this.stopped || this.secured) return wipeMediaKeys(keys);
    this.secured = {
      sealer: new FrameSealer(keys.seal.keys, { ratchetInterval: keys.seal.ratchetInterval, startSeq: keys.seal.seq }),
      opener: new FrameOpener(keys.open),
      callHandle,
      slot,
    };
  }

  setSending(on: boolean): void {
    this.pipeline.setSending(on);
  }

  setMuted(m: boolean): void {
    this.pipeline.setMuted(m);
  }

  /** A binary message from the link's socket. */
  receive(frame: Uint8Array): void {
    const s = this.secured;
    if (this.stopped) return;
    if (!s) {
      this.beforeKeys++;
      return;
    }
    void s.opener.open(frame).then((opened) => {
      if (this.stopped) return;
      // The handle is authenticated with the frame: one sealed under another handle was meant
      // for another call (PROTOCOL-NOTES), so it is never played into this one.
      const payload = opened && opened.callHandle === s.callHandle ? unpadPayload(opened.payload, s.slot) : null;
      if (!payload) this.dropped++;
      else this.pipeline.receive(opened!.seq, payload);
    });
  }

  stats(): MediaStats {
    return { ...this.pipeline.stats(), sent: this.sent, dropped: this.dropped, beforeKeys: this.beforeKeys, opened: this.secured?.opener.stats.opened ?? 0, unsent: this.unsent };
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.pipeline.stop();
    this.secured?.sealer.destroy();
    this.secured?.opener.destroy();
    this.secured = null;
  }

  private seal(payload: Uint8Array): void {
    const s = this.secured;
    if (this.stopped) return;
    if (!s) {
      this.unsent++;
      return;
    }
    // Constant-size frames: a payload that does not fit its slot is dropped, never sent at a telling size.
    const padded = padPayload(payload, s.slot);
    if (!padded) {
      this.unsent++;
      return s.sealer.skip(1);
    }
    s.sealer.seal(s.callHandle, padded).then(
      (frame) => {
        if (this.stopped) return;
        if (this.sendFrame(frame)) this.sent++;
        else this.unsent++;
      },
      () => {},
    );
  }
}
