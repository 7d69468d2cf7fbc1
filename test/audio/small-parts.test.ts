import { describe, expect, test } from "vitest";
import { rmsToMeter } from "../../pwa/audio/meter.ts";
import { MODE_GAIN, outputGain } from "../../pwa/audio/output-route.ts";
import { callQuality } from "../../pwa/audio/quality.ts";
import { micConstraints } from "../../pwa/audio/mic.ts";

describe("audio small parts", () => {
  test("private mode plays at 20 % and speaker at 100 %, both scaled by the user's volume", () => {
    expect(MODE_GAIN).toEqual({ private: 0.2, speaker: 1 });
    expect(outputGain("private", 1)).toBeCloseTo(0.2);
    expect(outputGain("speaker", 0.5)).toBeCloseTo(0.5);
    expect(outputGain("private", 0.5)).toBeCloseTo(0.1);
    expect(outputGain("speaker", 7)).toBe(1);
    expect(outputGain("speaker", Number.NaN)).toBe(1);
  });

  test("meter maps -60..0 dBFS to 0..1", () => {
    expect(rmsToMeter(0)).toBe(0);
    expect(rmsToMeter(1)).toBe(1);
    expect(rmsToMeter(0.001)).toBeCloseTo(0);
    expect(rmsToMeter(0.0316)).toBeCloseTo(0.5, 1);
  });

  test("quality from loss and jitter", () => {
    expect(callQuality(0, 5)).toBe("good");
    expect(callQuality(3, 5)).toBe("fair");
    expect(callQuality(1, 50)).toBe("fair");
    expect(callQuality(10, 5)).toBe("poor");
    expect(callQuality(0, 120)).toBe("poor");
  });

  test("mic constraints ask for call-grade processing, mono", () => {
    const a = micConstraints().audio as Record<string, unknown>;
    expect(a).toMatchObject({ echoCancellation: "all", noiseSuppression: true, autoGainControl: true, channelCount: 1 });
  });
});
