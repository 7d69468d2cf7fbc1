import { afterAll, beforeAll, expect, test } from "vitest";
import type { Page } from "playwright-core";
import { bundlePage, type BundledPage } from "../helpers/bundle-page.ts";
import { launchChromium, type LaunchedChromium } from "../helpers/chromium.ts";
import { FIXTURES } from "../audio/wav.ts";

let chromium: LaunchedChromium;
let server: BundledPage;
let page: Page;

beforeAll(async () => {
  server = await bundlePage({ entry: new URL("../audio/browser/wake-lock-page.ts", import.meta.url).pathname });
  chromium = await launchChromium({ fakeAudioCapture: FIXTURES + "speech-caller-48k.wav" });
  page = await chromium.context.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => (globalThis as { wakeLockReady?: boolean }).wakeLockReady === true);
});

afterAll(async () => {
  await chromium?.close();
  await server?.close();
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
