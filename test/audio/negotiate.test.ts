import { describe, expect, test } from "vitest";
import { chooseCodec, supportedCodecs } from "../../pwa/audio/negotiate.ts";

describe("codec negotiation", () => {
  test("first of the initiator's list that the responder supports", () => {
    expect(chooseCodec(["opus", "pcmu16"], ["opus", "pcmu16"])).toBe("opus");
    expect(chooseCodec(["pcmu16", "opus"], ["opus", "pcmu16"])).toBe("pcmu16");
    expect(chooseCodec(["opus", "pcmu16"], ["pcmu16"])).toBe("pcmu16");
  });

  test("pcmu16 is the floor, and unknown names from the wire are never chosen", () => {
    expect(chooseCodec([], [])).toBe("pcmu16");
    expect(chooseCodec(["opus"], ["pcmu16"])).toBe("pcmu16");
    expect(chooseCodec(["g729", "opus"], ["g729", "opus"])).toBe("opus");
    expect(chooseCodec(["g729"], ["g729"])).toBe("pcmu16");
  });

  test("without WebCodecs and without the WebAssembly module (not served here) only the fallback is offered", async () => {
    expect(typeof (globalThis as { AudioEncoder?: unknown }).AudioEncoder).toBe("undefined");
    expect(await supportedCodecs()).toEqual(["pcmu16"]);
  });
});
