// Launches Debian's headless Chromium for browser tests. The flag list is fixed on purpose:
// every browser test runs against the same, reproducible browser configuration, with a fake
// microphone playing a WAV file so audio tests can check what comes out the other end.
import { chromium, type BrowserContext } from "playwright-core";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const CHROMIUM_PATH = "/usr/bin/chromium";

export interface LaunchOptions {
  /** WAV played as the fake microphone; loops unless the path ends in "%noloop". */
  fakeAudioCapture: string;
  /** Appended after the fixed flags, e.g. "--ignore-certificate-errors". */
  extraArgs?: string[];
}

export interface LaunchedChromium {
  context: BrowserContext;
  /** The profile directory: unique to this browser, so its processes can be found by it. */
  userDataDir: string;
  close(): Promise<void>;
}

export function chromiumArgs(fakeAudioCapture: string, extraArgs: string[] = []): string[] {
  const [file, suffix] = fakeAudioCapture.split("%");
  const wav = resolve(file!) + (suffix !== undefined ? `%${suffix}` : "");
  return [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    `--use-file-for-fake-audio-capture=${wav}`,
    "--autoplay-policy=no-user-gesture-required",
    ...extraArgs,
  ];
}

export async function launchChromium(opts: LaunchOptions): Promise<LaunchedChromium> {
  const userDataDir = await mkdtemp(join(tmpdir(), "voicesrv-chromium-"));
  // A persistent context is the only way to give Chromium a fresh profile directory of our own,
  // which we can delete afterwards; plain launch() would leave its temp profile to Playwright.
  // A persistent context gives Chromium a fresh profile directory of our own, deleted afterwards.
  // Playwright's own default switches are dropped so the browser runs with exactly our flags;
  // only the plumbing it cannot work without is added back (headless, its control pipe, the profile).
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    ignoreDefaultArgs: true,
    args: [
      ...chromiumArgs(opts.fakeAudioCapture, opts.extraArgs),
      "--headless",
      "--remote-debugging-pipe",
      `--user-data-dir=${userDataDir}`,
      "about:blank",
    ],
  });
  let closed = false;
  return {
    context,
    userDataDir,
    async close() {
      if (closed) return;
      closed = true;
      await context.close().catch(() => {});
      await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
    },
  };
}
