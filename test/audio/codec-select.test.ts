// Which Opus implementation a browser gets (codec-select.ts), with the browser's answers
// injected: WebCodecs first, WebAssembly for what WebCodecs lacks, pcmu16 only if neither works.
import { describe, expect, test } from "vitest";
import { chooseOpusPaths, codecPair, opusPathLabel, type OpusProbes } from "../../pwa/audio/codec-select.ts";
import { supportedCodecs } from "../../pwa/audio/negotiate.ts";
import { PcmuDecoder, PcmuEncoder } from "../../pwa/audio/pcmu-codec.ts";

function probes(webCodecsEncoder: boolean, webCodecsDecoder: boolean, wasm: boolean) {
  const asked: string[] = [];
  const p: OpusProbes = {
    webCodecsEncoder: async () => (asked.push("webCodecsEncoder"), webCodecsEncoder),
    webCodecsDecoder: async () => (asked.push("webCodecsDecoder"), webCodecsDecoder),
    wasm: async () => (asked.push("wasm"), wasm),
  };
  return { p, asked };
}

describe("Opus implementation per browser", () => {
  test("full WebCodecs Opus: WebCodecs both ways, and the WASM module is never loaded", async () => {
    const { p, asked } = probes(true, true, true);
    expect(await chooseOpusPaths(p)).toEqual({ encoder: "webcodecs", decoder: "webcodecs" });
    expect(asked).not.toContain("wasm");
  });

  test("no WebCodecs Opus (older Safari, Firefox for Android): WebAssembly both ways", async () => {
    expect(await chooseOpusPaths(probes(false, false, true).p)).toEqual({ encoder: "wasm", decoder: "wasm" });
  });

  test("half of WebCodecs Opus: WebAssembly only for the missing half", async () => {
    expect(await chooseOpusPaths(probes(false, true, true).p)).toEqual({ encoder: "wasm", decoder: "webcodecs" });
    expect(await chooseOpusPaths(probes(true, false, true).p)).toEqual({ encoder: "webcodecs", decoder: "wasm" });
  });

  test("neither WebCodecs nor a working WASM module: no Opus, only pcmu16 is offered", async () => {
    expect(await chooseOpusPaths(probes(false, false, false).p)).toBeNull();
    expect(await chooseOpusPaths(probes(true, false, false).p)).toBeNull();
    expect(await supportedCodecs(chooseOpusPaths(probes(false, false, false).p))).toEqual(["pcmu16"]);
  });

  test("opus is offered whichever way it runs: the wire cannot tell them apart", async () => {
    expect(await supportedCodecs(chooseOpusPaths(probes(true, true, false).p))).toEqual(["opus", "pcmu16"]);
    expect(await supportedCodecs(chooseOpusPaths(probes(false, false, true).p))).toEqual(["opus", "pcmu16"]);
  });

  test("Call details names the WebAssembly path and says nothing extra for WebCodecs", () => {
    expect(opusPathLabel({ encoder: "wasm", decoder: "wasm" })).toBe("WebAssembly");
    expect(opusPathLabel({ encoder: "wasm", decoder: "webcodecs" })).toBe("WebAssembly encoder");
    expect(opusPathLabel({ encoder: "webcodecs", decoder: "wasm" })).toBe("WebAssembly decoder");
    expect(opusPathLabel({ encoder: "webcodecs", decoder: "webcodecs" })).toBe("");
  });

  test("pcmu16 needs no probe; opus without any implementation is refused, not half-built", async () => {
    const notAsked = Promise.reject(new Error("must not be asked"));
    notAsked.catch(() => {});
    const pcmu = await codecPair("pcmu16", notAsked);
    expect(pcmu.encoder(() => {})).toBeInstanceOf(PcmuEncoder);
    expect(pcmu.decoder()).toBeInstanceOf(PcmuDecoder);
    expect(pcmu.label).toBe("");
    await expect(codecPair("opus", Promise.resolve(null))).rejects.toThrow(/neither WebCodecs nor WebAssembly/);
  });
});
