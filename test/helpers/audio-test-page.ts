// The set-up every audio browser test shares: bundle a test page from test/audio/browser/,
// serve it on loopback, open it in Chromium with a WAV as the microphone, wait until it is ready.
import type { Page } from "playwright-core";
import { audioWorkletEntries } from "../../pwa/audio/worklets/entries.ts";
import { bundlePage } from "./bundle-page.ts";
import { launchChromium } from "./chromium.ts";

export interface AudioTestPage {
  page: Page;
  close(): Promise<void>;
}

export async function openAudioTestPage(opts: {
  /** File name in test/audio/browser/. */
  entry: string;
  /** The global the page sets to true once it is ready. */
  readyFlag: string;
  /** WAV played as the fake microphone. */
  mic: string;
  /** Serve the audio worklets at /audio/… as the app does. */
  worklets?: boolean;
}): Promise<AudioTestPage> {
  const server = await bundlePage({
    entry: new URL(`../audio/browser/${opts.entry}`, import.meta.url).pathname,
    ...(opts.worklets ? { extraEntries: Object.fromEntries(audioWorkletEntries.map((w) => [w.url, w.entry])) } : {}),
  });
  const chromium = await launchChromium({ fakeAudioCapture: opts.mic }).catch(async (e) => {
    await server.close();
    throw e;
  });
  const page = await chromium.context.newPage();
  await page.goto(server.url);
  await page.waitForFunction((flag) => (globalThis as Record<string, unknown>)[flag] === true, opts.readyFlag);
  return {
    page,
    async close() {
      await chromium.close();
      await server.close();
    },
  };
}
