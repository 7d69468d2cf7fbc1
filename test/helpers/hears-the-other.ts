// The assertion every two-browser call test ends with. Apart from browser-app.ts because it
// needs vitest's expect, and the latency benchmark imports browser-app.ts outside vitest.
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { decodedEnvelope, hook, readWavMono16, rmsEnvelope, segmentedCorrelation, trimLeadingSilence } from "./browser-app.ts";

/**
 * After a call has run a while: each side sent and received > 100 frames (50/s, constant while
 * not muted) with none dropped, and heard the other's voice — not silence, over 3 s of it, and
 * closer to the other's recording than to its own microphone's (r > 0.8, and 0.15 above its own).
 * `label` names the two sides in the log line.
 */
export async function expectEachHearsTheOther(
  caller: Page,
  callee: Page,
  wavs: { caller: string; callee: string },
  label: { caller: string; callee: string } = { caller: "caller", callee: "callee" },
): Promise<void> {
  type Stats = { framesReceived: number; framesSent: number; framesDropped: number };
  const stats = { caller: await hook<Stats>(caller, "stats"), callee: await hook<Stats>(callee, "stats") };
  console.info(`stats ${label.caller} ${JSON.stringify(stats.caller)} ${label.callee} ${JSON.stringify(stats.callee)}`);
  for (const s of [stats.caller, stats.callee]) {
    expect(s.framesSent).toBeGreaterThan(100);
    expect(s.framesReceived).toBeGreaterThan(100);
    expect(s.framesDropped).toBe(0);
  }
  const callerSrc = rmsEnvelope(readWavMono16(wavs.caller).samples);
  const calleeSrc = rmsEnvelope(readWavMono16(wavs.callee).samples);
  const heardByCallee = await decodedEnvelope(callee);
  const heardByCaller = await decodedEnvelope(caller);
  expect(heardByCallee.peak).toBeGreaterThan(0.02);
  expect(heardByCaller.peak).toBeGreaterThan(0.02);
  const atCallee = trimLeadingSilence(heardByCallee.envelope);
  const atCaller = trimLeadingSilence(heardByCaller.envelope);
  expect(atCallee.length).toBeGreaterThan(300); // > 3 s of 10 ms windows
  expect(atCaller.length).toBeGreaterThan(300);
  const calleeHearsCaller = segmentedCorrelation(atCallee, callerSrc);
  const calleeHearsSelf = segmentedCorrelation(atCallee, calleeSrc);
  const callerHearsCallee = segmentedCorrelation(atCaller, calleeSrc);
  const callerHearsSelf = segmentedCorrelation(atCaller, callerSrc);
  console.info(
    `correlation: ${label.callee} hears ${label.caller} ${calleeHearsCaller.toFixed(3)} (own voice ${calleeHearsSelf.toFixed(3)}); ` +
      `${label.caller} hears ${label.callee} ${callerHearsCallee.toFixed(3)} (own voice ${callerHearsSelf.toFixed(3)})`,
  );
  expect(calleeHearsCaller).toBeGreaterThan(0.8);
  expect(callerHearsCallee).toBeGreaterThan(0.8);
  expect(calleeHearsCaller).toBeGreaterThan(calleeHearsSelf + 0.15);
  expect(callerHearsCallee).toBeGreaterThan(callerHearsSelf + 0.15);
}
