// The app shell in real headless Chromium against the real server: landing → group, a reload
// keeps the ID, the strict CSP holds, no accessibility violations, the manifest and icons are
// valid, the service worker serves any group offline, and a lost server shows a status line.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { resolve } from "node:path";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { MEMBER_ID_RE } from "../../protocol/member-id.ts";
import { axeViolations, hook, openAppBrowser, passOnboarding, type AppBrowser } from "../helpers/browser-app.ts";

const MIC = resolve("test/fixtures/speech-caller-48k.wav");

let server: TestServer;
let app: AppBrowser;
const cspViolations: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  app = await openAppBrowser(MIC);
  await app.page.exposeFunction("__reportCsp", (v: string) => cspViolations.push(v));
  await app.page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      (window as unknown as { __reportCsp(v: string): void }).__reportCsp(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
});

afterAll(async () => {
  await app?.chromium.close();
  await server?.close();
});

function pngSize(bytes: Uint8Array): { w: number; h: number } {
  expect([...bytes.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  return { w: v.getUint32(16), h: v.getUint32(20) };
}

describe("the app shell", () => {
  test("first start asks for a name; landing sanitises the group name live, joins, remembers the group, and keeps the ID over a reload", async () => {
    const { page } = app;
    await page.goto(`${server.url}/`);
    await page.getByText("What should your family call you?").waitFor({ timeout: 10_000 });
    expect(await axeViolations(page)).toEqual([]);
    // Names with invisible or direction-changing characters are refused on the device too.
    await page.locator("vs-onboarding input").fill("Gran\u202Ema");
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByText("Use letters, numbers, spaces and punctuation only.").waitFor({ timeout: 5000 });
    await passOnboarding(page, "Grandma");
    await page.locator("#group").fill("My Family!");
    await expect(page.locator("#preview").textContent()).resolves.toContain("/my-family");
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole("button", { name: "Join", exact: true }).click();
    await page.waitForURL(/\/my-family$/);
    await expect.poll(() => hook<string | null>(page, "me"), { timeout: 10_000 }).toMatch(MEMBER_ID_RE);
    const id = await hook<string>(page, "me");
    await expect(page.locator("vs-group [data-testid=my-name]").textContent()).resolves.toBe("Grandma");
    await expect(page.getByText("No one else has joined yet — invite them.").isVisible()).resolves.toBe(true);
    expect(await axeViolations(page)).toEqual([]);

    await page.reload();
    await expect.poll(() => hook<string | null>(page, "me"), { timeout: 10_000 }).toBe(id);

    await page.getByRole("button", { name: "Back to all groups" }).click();
    await page.getByRole("button", { name: "Open group my-family" }).waitFor({ timeout: 5000 });
    expect(cspViolations).toEqual([]);
    expect(app.errors).toEqual([]);
  }, 40_000);

  test("the manifest names the app and points at real 192 and 512 px icons, both any and maskable", async () => {
    const res = await fetch(`${server.url}/manifest.webmanifest`, { tls: { rejectUnauthorized: false } } as RequestInit);
    expect(res.headers.get("content-type")).toContain("application/manifest+json");
    const m = (await res.json()) as { name: string; short_name: string; start_url: string; scope: string; display: string; icons: { src: string; sizes: string; purpose: string }[] };
    expect(m.short_name).toBe("voicesrv");
    expect(m.display).toBe("standalone");
    expect(m.scope).toBe("/");
    for (const size of [192, 512])
      for (const purpose of ["any", "maskable"]) {
        const icon = m.icons.find((i) => i.sizes === `${size}x${size}` && i.purpose === purpose);
        expect(icon, `${size} ${purpose}`).toBeDefined();
        const png = new Uint8Array(await (await fetch(`${server.url}${icon!.src}`, { tls: { rejectUnauthorized: false } } as RequestInit)).arrayBuffer());
        expect(pngSize(png)).toEqual({ w: size, h: size });
      }
  });

  test("the service worker serves the app for any group while offline", async () => {
    const { page, chromium } = app;
    await page.goto(`${server.url}/offline-check`);
    await passOnboarding(page);
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await chromium.context.setOffline(true);
    try {
      await page.goto(`${server.url}/some-other-group`);
      await page.locator("vs-group h1", { hasText: "some-other-group" }).waitFor({ timeout: 10_000 });
      await page.getByText(/Couldn't reach the server/).waitFor({ timeout: 10_000 });
      // Offline, the group page does not pretend nobody is there, and cannot invite.
      await page.getByText("The list of people appears when you are connected.").waitFor();
      expect(await page.getByText(/No one else/).count()).toBe(0);
      expect(await page.getByRole("button", { name: "Invite someone to this group" }).isDisabled()).toBe(true);
      // Offline, a link that is not a group address still says what was wrong (the app shell
      // comes from the service worker here, not from the server).
      await page.goto(`${server.url}/My%20Family!`);
      await page.locator("vs-landing [data-testid=bad-link]", { hasText: "Did you mean my-family?" }).waitFor({ timeout: 10_000 });
    } finally {
      await chromium.context.setOffline(false);
    }
  }, 30_000);

  test("losing the server shows a retry countdown instead of a blank page", async () => {
    const own = await startTestServer();
    const { page } = app;
    await page.goto(`${own.url}/retry-check`);
    await passOnboarding(page);
    await expect.poll(() => hook<string | null>(page, "link"), { timeout: 10_000 }).toBe("online");
    await own.close();
    await page.getByText(/Couldn't reach the server\. Retrying in \d+ s…/).waitFor({ timeout: 10_000 });
    expect(await hook<string>(page, "link")).toMatch(/reconnecting|offline/);
  }, 30_000);
});
