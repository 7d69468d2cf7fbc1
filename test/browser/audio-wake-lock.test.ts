import { afterAll, beforeAll, expect, test } from "vitest";
import type { Page } from "playwright-core";
import { openAudioTestPage, type AudioTestPage } from "../helpers/audio-test-page.ts";
import { FIXTURES } from "../audio/wav.ts";

let testPage: AudioTestPage;
let page: Page;

beforeAll(async () => {
  testPage = await openAudioTestPage({ entry: "wake-lock-page.ts", readyFlag: "wakeLockReady", mic: FIXTURES + "speech-caller-48k.wav" });
  page = testPage.page;
});

afterAll(async () => {
  await testPage?.close();
});

type State = { supported: boolean; active: boolean };
const call = (fn: string) =>
  page.evaluate((name) => (globalThis as unknown as { wakeLockTest: Record<string, () => Promise<State>> }).wakeLockTest[name]!(), fn);

test("wake lock: acquired on request, re-acquired when visible again, released on hang-up", async () => {
  await page.bringToFront();
  expect(await call("request")).toEqual({ supported: true, active: true });
  expect(await call("simulateSystemRelease")).toEqual({ supported: true, active: false });
  expect(await call("becomeVisible")).toEqual({ supported: true, active: true });
  expect(await call("release")).toEqual({ supported: true, active: false });
  // After hang-up, becoming visible must not take the lock again.
  expect(await call("becomeVisible")).toEqual({ supported: true, active: false });
  const seen = (await call("seen")) as unknown as State[];
  expect(seen[0]).toEqual({ supported: true, active: false });
  expect(seen.some((s) => s.active)).toBe(true);
});
