// Installing and updating the app in real headless Chromium: Chromium itself must find the app
// installable (manifest, icons, service worker controlling the page), a first visit must never
// be told an update is waiting, and a returning visitor with an older version open must get a
// readable "Update available — Reload" that really loads the new version.
//
// A "new build" is simulated by serving a copy of sw.js with one precache revision changed:
// that is exactly what a rebuilt app looks like to the browser, and it leaves dist/pwa (which
// other test runs may be serving) alone.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { readFile, writeFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";
import { pwaAssets } from "../../dist/pwa-assets.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { axeViolations, hook, joinGroup, openAppBrowser, passOnboarding, PHONE, type AppBrowser } from "../helpers/browser-app.ts";
import { TestClient } from "../helpers/ws-client.ts";

const MIC = resolve("test/fixtures/speech-caller-48k.wav");
const SHOTS = process.env.VOICESRV_SHOTS;

let app: AppBrowser;
let tmp: string;
const servers: TestServer[] = [];
const builtSw = pwaAssets["/sw.js"]!;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "voicesrv-sw-"));
  app = await openAppBrowser(MIC);
});

afterEach(() => {
  pwaAssets["/sw.js"] = builtSw;
});

afterAll(async () => {
  pwaAssets["/sw.js"] = builtSw;
  await app?.chromium.close();
  await Promise.all(servers.map((s) => s.close()));
  await rm(tmp, { recursive: true, force: true });
});

/** Each test gets its own origin (port), so its service worker starts from nothing. */
async function freshServer(): Promise<TestServer> {
  const s = await startTestServer();
  servers.push(s);
  return s;
}

/** From now on the server offers a new version of the app: a sw.js whose precache differs. */
async function publishNewBuild(): Promise<void> {
  const sw = await readFile(builtSw, "utf8");
  const changed = sw.replace(/("\/favicon\.svg",revision:")[0-9a-f]+"/, `$1${"f".repeat(16)}"`);
  expect(changed).not.toBe(sw);
  const path = join(tmp, `sw-${Date.now()}.js`);
  await writeFile(path, changed);
  pwaAssets["/sw.js"] = path;
}

async function workerControls(page: Page): Promise<void> {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 15_000 });
}

/** Resolves once no worker is installing or waiting (an update, if any, has been dealt with). */
async function workerSettled(page: Page): Promise<void> {
  await page.waitForFunction(
    async () => {
      const r = await navigator.serviceWorker.getRegistration();
      return r?.active?.state === "activated" && !r.installing && !r.waiting;
    },
    undefined,
    { timeout: 15_000, polling: 200 },
  );
}

/** Whether the active worker precached the revision publishNewBuild() changed (old caches are cleaned up on activate). */
async function precachedRevisionIsNew(page: Page): Promise<boolean> {
  const urls = await page.evaluate(async () => {
    const names = await caches.keys();
    const lists = await Promise.all(names.map(async (n) => (await (await caches.open(n)).keys()).map((r) => r.url)));
    return lists.flat().filter((u) => u.includes("favicon.svg"));
  });
  return urls.length === 1 && urls[0]!.includes("f".repeat(16));
}

const errors: string[] = [];

async function newPage(): Promise<Page> {
  const page = await app.chromium.context.newPage();
  await page.setViewportSize(PHONE);
  page.on("pageerror", (e) => errors.push(e.message));
  return page;
}

const toast = (page: Page) => page.locator("vs-app .toast");

describe("installing and updating the app", () => {
  test("Chromium finds the app installable on a group page", async () => {
    const server = await freshServer();
    const page = await newPage();
    try {
      await joinGroup(page, `${server.url}/install-check`);
      await workerControls(page);
      const cdp = await app.chromium.context.newCDPSession(page);
      const manifest = (await cdp.send("Page.getAppManifest")) as { errors: unknown[]; url: string };
      expect(manifest.url).toBe(`${server.url}/manifest.webmanifest`);
      expect(manifest.errors).toEqual([]);
      const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
      expect(installabilityErrors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 30_000);

  test("a first visit never shows 'Update available', even when a new build appears during it", async () => {
    const server = await freshServer();
    const page = await newPage();
    const toastSeen: string[] = [];
    let other: TestClient | undefined;
    await page.exposeFunction("__toastSeen", (t: string) => toastSeen.push(t));
    // Records any toast, however briefly it shows.
    await page.addInitScript(() => {
      const report = (window as unknown as { __toastSeen(t: string): void }).__toastSeen;
      const watch = () => {
        const root = document.querySelector("vs-app")?.shadowRoot;
        if (!root) return void setTimeout(watch, 20);
        new MutationObserver(() => {
          const t = root.querySelector(".toast");
          if (t) report(t.textContent ?? "");
        }).observe(root, { childList: true, subtree: true, characterData: true });
      };
      watch();
    });
    try {
      await page.goto(`${server.url}/`);
      await passOnboarding(page);
      await workerControls(page);
      await joinGroup(page, `${server.url}/family`);
      // Someone else in the group (another device: a tab of this browser would be this person).
      other = await TestClient.open(server.wsUrl("family"), { name: "Other" });
      const otherId = other.id;
      await page.locator(`[data-member="${otherId}"]`).waitFor({ timeout: 10_000 });
      await workerSettled(page);
      await page.waitForTimeout(500); // workbox-window reports "waiting" 200 ms after install
      expect(toastSeen).toEqual([]);

      // The server is upgraded while the visit goes on, and the person moves on in the app.
      await publishNewBuild();
      await page.goto(`${server.url}/family`);
      await page.locator(`[data-member="${otherId}"]`).waitFor({ timeout: 10_000 });
      // Chromium checks for updates on navigation only now and then; do it now.
      await page.evaluate(async () => void (await (await navigator.serviceWorker.getRegistration())!.update()));
      // Not ignored but taken: the new build's precache becomes the one in use.
      await expect.poll(() => precachedRevisionIsNew(page), { timeout: 15_000 }).toBe(true);
      await page.waitForTimeout(300);
      if (SHOTS) await page.screenshot({ path: `${SHOTS}/first-visit.png` });
      expect(toastSeen).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      other?.close();
      await page.close();
    }
  }, 40_000);

  test("a returning visitor gets a readable 'Update available — Reload' that loads the new version", async () => {
    const server = await freshServer();
    const first = await newPage();
    await joinGroup(first, `${server.url}/update-check`);
    await workerControls(first);
    await workerSettled(first);
    await first.close();

    // Another day, another tab: the installed version opens, then the server has a new one.
    const page = await newPage();
    try {
      await page.goto(`${server.url}/update-check`);
      await workerControls(page);
      await workerSettled(page);
      await publishNewBuild();
      await page.reload();
      await toast(page).waitFor({ timeout: 15_000 });
      if (SHOTS) await page.screenshot({ path: `${SHOTS}/update-toast.png` });
      expect((await toast(page).textContent())?.replace(/\s+/g, " ").trim()).toBe("Update available — Reload");
      const button = page.getByRole("button", { name: "Reload", exact: true });
      // Readable: the button's text contrasts with the toast, and the button fits inside it.
      expect(await axeViolations(page)).toEqual([]);
      const colours = await button.evaluate((el) => {
        const toastEl = el.closest(".toast")!;
        return { text: getComputedStyle(el).color, bg: getComputedStyle(toastEl).backgroundColor };
      });
      expect(colours.text).not.toBe(colours.bg);
      await page.emulateMedia({ colorScheme: "dark" });
      expect(await axeViolations(page)).toEqual([]);
      await page.emulateMedia({ colorScheme: "light" });
      const [tb, bb] = [await toast(page).boundingBox(), await button.boundingBox()];
      expect(bb!.height).toBeGreaterThanOrEqual(44);
      expect(bb!.x).toBeGreaterThanOrEqual(tb!.x);
      expect(bb!.y).toBeGreaterThanOrEqual(tb!.y);
      expect(bb!.x + bb!.width).toBeLessThanOrEqual(tb!.x + tb!.width + 0.5);
      expect(bb!.y + bb!.height).toBeLessThanOrEqual(tb!.y + tb!.height + 0.5);

      await Promise.all([page.waitForEvent("load", { timeout: 15_000 }), button.click()]);
      await workerSettled(page);
      await page.locator("vs-group").waitFor({ timeout: 10_000 });
      await page.waitForTimeout(500);
      expect(await toast(page).count()).toBe(0);
      await expect.poll(() => precachedRevisionIsNew(page), { timeout: 10_000 }).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 40_000);
});
