// The two Opus encoders a call can use — WebCodecs (opus-codec.ts) and libopus as WebAssembly
// (opus-wasm-protocol.ts) — must make the same stream: the peer cannot tell which one the other
// phone runs, and the relay sees the same constant frame size (IDENTITY.md §7). Field by field,
// in their two vocabularies — except the complexity, which differs on purpose (opus-codec.ts).
import { expect, test } from "vitest";
import { OPUS_ENCODER_CONFIG } from "../../pwa/audio/opus-codec.ts";
import { OPUS_WASM_ENCODER_OPTIONS } from "../../pwa/audio/opus-wasm-protocol.ts";

test("WebCodecs and WebAssembly Opus are configured alike", () => {
  const w = OPUS_ENCODER_CONFIG;
  const l = OPUS_WASM_ENCODER_OPTIONS;
  expect(w.sampleRate).toBe(l.sampleRate);
  expect(w.numberOfChannels).toBe(l.channels);
  expect((w.opus.frameDuration * w.sampleRate) / 1_000_000).toBe(l.frameSize);
  expect(w.bitrate).toBe(l.bitrate);
  expect(w.bitrateMode === "constant").toBe(l.vbr === false);
  expect(w.opus.usedtx).toBe(l.dtx);
  expect(w.opus.useinbandfec).toBe(l.fec);
  expect(w.opus.packetlossperc).toBe(l.packetLossPercent);
  expect("complexity" in w.opus).toBe(false); // the browser's own default (opus-codec.ts)
  expect(l.complexity).toBe(5);
  expect(w.opus.application === "voip").toBe(l.application === 2048);
});
