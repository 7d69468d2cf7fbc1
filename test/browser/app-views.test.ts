// Every screen as people meet it (issue #14): axe-core in the light AND the dark theme, and at
// 200 % text size nothing clipped or pushed off a phone-sized screen. Two people in one headless
// Chromium (isolated contexts) against the real server: landing, onboarding, group, invite,
// settings, the security pages, an incoming call, the call itself with its safety code, and the
// security-failure screen after "They don't match".
//
// `npm run screenshots` runs this file with VOICESRV_SCREENSHOTS=<folder>: every view checked
// here is then also saved light and dark, phone and desktop (screenshots/ is git-ignored).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import type { Page } from "playwright-core";
import { axeViolations, hook, joinGroup, openAppPeople, passOnboarding, PHONE, type AppPeople, type AppPerson } from "../helpers/browser-app.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const MIC = resolve("test/fixtures/speech-caller-48k.wav");
const SHOTS = process.env.VOICESRV_SCREENSHOTS ? resolve(process.env.VOICESRV_SCREENSHOTS) : null;
const DESKTOP = { width: 1280, height: 800 };

let server: TestServer;
let app: AppPeople;
let ann: AppPerson;
let bob: AppPerson;

beforeAll(async () => {
  [server, app] = await Promise.all([startTestServer(), openAppPeople(2, MIC)]);
  [ann, bob] = app.people as [AppPerson, AppPerson];
});

afterAll(async () => {
  await app?.close();
  await server?.close();
});

/** Serious/critical axe findings with the system asking for a light, then a dark scheme. */
async function axeBothThemes(page: Page): Promise<string[]> {
  const out: string[] = [];
  for (const colorScheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme });
    // The check means something only if the theme really changed: a dark page background.
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const lum = bg.match(/\d+/g)!.slice(0, 3).reduce((a, c) => a + Number(c), 0) / 3;
    expect(lum > 128, `${colorScheme} background ${bg}`).toBe(colorScheme === "light");
    for (const v of await axeViolations(page)) out.push(`${colorScheme}: ${v}`);
  }
  await page.emulateMedia({ colorScheme: "light" });
  return out;
}

/**
 * Elements whose text does not fit at 200 % text size: a box whose content is wider than the
 * box (clipped, or spilling over its neighbours), text running off the right edge of the
 * screen, or a page that scrolls sideways. Open shadow roots included; inputs (they scroll
 * their value by design) and visually hidden screen-reader text are left out.
 */
async function clippedAtLargeText(page: Page): Promise<string[]> {
  await page.evaluate(() => (document.documentElement.style.fontSize = "200%"));
  await page.waitForTimeout(100);
  const found = await page.evaluate(() => {
    const out: string[] = [];
    const vw = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > vw + 1) out.push(`page scrolls sideways (${document.documentElement.scrollWidth} > ${vw})`);
    const describe = (el: Element) => {
      const host = (el.getRootNode() as ShadowRoot).host?.localName ?? "document";
      const cls = el.getAttribute("class") ? `.${el.getAttribute("class")!.trim().split(/\s+/).join(".")}` : "";
      return `${host} ${el.localName}${cls} "${(el.textContent ?? "").trim().slice(0, 30)}"`;
    };
    const visit = (root: Document | ShadowRoot) => {
      for (const el of root.querySelectorAll("*")) {
        if (el.shadowRoot) visit(el.shadowRoot);
        if (!(el instanceof HTMLElement)) continue;
        if (el.localName === "input" || el.closest(".sr-only")) continue;
        const cs = getComputedStyle(el);
        if (cs.display === "none" || cs.visibility === "hidden" || cs.display === "contents") continue;
        const ownText = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim() !== "");
        const rect = el.getBoundingClientRect();
        if (rect.width === 0 || rect.height === 0) continue;
        // Content wider than a box that clips it, or text wider than its own box: cut off, or
        // spilling over what sits next to it. (A wrapper that merely passes an overflowing
        // child up is reported through the child.)
        const clips = cs.overflowX === "hidden" || cs.overflowX === "clip";
        if (cs.display !== "inline" && (clips || ownText) && el.scrollWidth > el.clientWidth + 1)
          out.push(`${describe(el)} content ${el.scrollWidth} px in a ${el.clientWidth} px box`);
        else if ((ownText || ![...el.children].some((c) => c.getBoundingClientRect().right > vw + 1)) && rect.right > vw + 1) out.push(`${describe(el)} runs off screen (right ${Math.round(rect.right)} > ${vw})`);
      }
    };
    visit(document);
    return out;
  });
  await page.evaluate(() => (document.documentElement.style.fontSize = ""));
  return found;
}

/** For `npm run screenshots`: the view light and dark, on a phone and on a desktop. */
async function screenshots(p: AppPerson, view: string): Promise<void> {
  if (!SHOTS) return;
  await mkdir(SHOTS, { recursive: true });
  const slug = view.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  for (const [device, viewport] of [["phone", PHONE], ["desktop", DESKTOP]] as const) {
    await p.page.setViewportSize(viewport);
    for (const colorScheme of ["light", "dark"] as const) {
      await p.page.emulateMedia({ colorScheme, reducedMotion: "reduce" });
      await p.page.screenshot({ path: `${SHOTS}/${slug}-${device}-${colorScheme}.png` });
    }
  }
  await p.page.setViewportSize(PHONE);
  await p.page.emulateMedia({ colorScheme: "light", reducedMotion: null });
}

async function checkView(p: AppPerson, view: string): Promise<void> {
  expect.soft(await axeBothThemes(p.page), `${view}: axe`).toEqual([]);
  expect.soft(await clippedAtLargeText(p.page), `${view}: 200 % text`).toEqual([]);
  await screenshots(p, view);
}

describe("every view, both themes, 200 % text", () => {
  test("landing, onboarding, group, invite, settings, security pages", async () => {
    await ann.page.goto(`${server.url}/`);
    await ann.page.locator("vs-onboarding input").waitFor({ timeout: 10_000 });
    await checkView(ann, "onboarding");
    await passOnboarding(ann.page, "Annabelle Marguerite");
    await ann.page.locator("vs-landing").waitFor();
    await checkView(ann, "landing");

    await ann.page.getByRole("button", { name: "How your calls are protected" }).click();
    await ann.page.locator("vs-about").waitFor();
    await checkView(ann, "security page");
    expect(await ann.page.locator("vs-about [data-testid=credits]").textContent()).toMatch(/Twemoji .*CC-BY 4\.0/s);
    await ann.page.getByRole("button", { name: "Close", exact: true }).click();

    // The trust page (shown from the "Offline use isn't available" banner on an untrusted
    // certificate), both variants: the same steps as PHONE-TRUST.md, and a fingerprint to
    // compare with what the operator sees, never one this untrusted page vouches for itself.
    for (const caAvailable of [true, false]) {
      await ann.page.evaluate((ca) => {
        const el = document.createElement("vs-about") as HTMLElement & { topic: string; caAvailable: boolean };
        el.topic = "trust";
        el.caAvailable = ca;
        el.id = "trust-under-test";
        document.body.append(el);
      }, caAvailable);
      const trust = ann.page.locator("#trust-under-test");
      await trust.locator("[data-testid=compare-fingerprint]").waitFor();
      const text = (await trust.evaluate((el) => el.shadowRoot!.textContent ?? ""))!.replace(/\s+/g, " ");
      expect(text).toContain("voicesrv cert show");
      expect(text).toContain("iPhones and iPads need the certificate trusted before calls work at all");
      expect(text).not.toMatch(/[0-9A-F]{2}(:[0-9A-F]{2}){31}/i);
      if (caAvailable) expect(text).toMatch(/VPN & Device Management → install the downloaded profile.*Certificate Trust Settings/);
      await checkView(ann, `trust page (CA ${caAvailable ? "offered" : "not offered"})`);
      await ann.page.evaluate(() => document.getElementById("trust-under-test")!.remove());
    }

    await ann.page.getByRole("button", { name: "Settings" }).click();
    await ann.page.locator("vs-settings").waitFor();
    await checkView(ann, "settings");
    const settingsText = await ann.page.locator("vs-settings").evaluate((el) => el.shadowRoot!.textContent ?? "");
    expect(settingsText).toContain("Quiet (hold the phone to your ear)");
    expect(settingsText).not.toMatch(/\btab\b|Private \(/);
    await ann.page.locator("vs-settings").getByRole("button", { name: /close|back/i }).first().click();

    await ann.page.locator("#private-name").fill("Rosewood Chronicles");
    await ann.page.getByRole("button", { name: "Create private group" }).click();
    await expect.poll(() => hook<string | null>(ann.page, "link"), { timeout: 10_000 }).toBe("online");
    await checkView(ann, "group (alone)");

    await ann.page.getByRole("button", { name: "Invite someone to this group" }).click();
    const link = (await ann.page.locator("vs-invite-sheet [data-testid=invite-link]").textContent())!.trim();
    await ann.page.locator("vs-invite-sheet vs-qr-code svg").waitFor();
    await checkView(ann, "invite sheet");
    await ann.page.getByRole("button", { name: "Close invite" }).click();

    const bobId = await joinGroup(bob.page, link, "Bartholomew Fitzgerald");
    await ann.page.locator(`vs-group [data-member="${bobId}"]`).waitFor({ timeout: 10_000 });
    await checkView(ann, "group (with people)");
  }, 180_000);

  test("incoming call, the call with its safety code, security failure", async () => {
    await ann.page.getByRole("button", { name: "Call Bartholomew Fitzgerald" }).click();
    await bob.page.getByText("Incoming call", { exact: true }).waitFor({ timeout: 10_000 });
    await checkView(bob, "incoming");
    await checkView(ann, "outgoing");
    await bob.page.getByRole("button", { name: "Accept call from Annabelle Marguerite" }).click();
    for (const p of [ann, bob]) await p.page.locator("vs-in-call [data-testid=call-state]", { hasText: "Encrypted" }).waitFor({ timeout: 15_000 });
    await checkView(ann, "in-call");
    // The output mode says what it does ("Private" read as a privacy setting).
    await ann.page.getByRole("button", { name: "Quiet — switch to speaker" }).waitFor();
    expect(await ann.page.locator("vs-in-call").getByText("Private", { exact: true }).count()).toBe(0);

    // The symbols are the pictures shipped with the app (same on every platform), drawn inline
    // from the data this server serves (sas-art.ts), one per spoken word, the same on both
    // phones, hidden from screen readers; the words stay text.
    const art = (await (await fetch(`${server.url}/sas/art.json`, { tls: { rejectUnauthorized: false } } as RequestInit)).json()) as Record<string, { shapes: unknown[] }>;
    const pictures = async (p: AppPerson) =>
      p.page.locator("vs-in-call [data-testid=sas] li").evaluateAll((lis) =>
        lis.map((li) => {
          const pic = li.querySelector("svg.emoji")!;
          const box = pic.getBoundingClientRect();
          return {
            picture: pic.getAttribute("data-sas-picture"),
            hidden: pic.getAttribute("aria-hidden"),
            shapes: pic.children.length,
            // Laid out at the picture's size, and its shapes really draw something in it.
            drawn: box.width > 16 && box.height > 16 && (pic.firstElementChild as SVGGraphicsElement).getBBox().width > 0 && (pic as SVGSVGElement).viewBox.baseVal.width > 0,
            name: li.querySelector("[data-sas-name]")!.textContent,
          };
        }),
      );
    const annPictures = await pictures(ann);
    expect(annPictures).toHaveLength(4);
    for (const pic of annPictures) expect(pic).toEqual({ picture: pic.name, hidden: "true", shapes: art[pic.name!]!.shapes.length, drawn: true, name: pic.name });
    expect(await pictures(bob)).toEqual(annPictures);
    // All 64 are in one precached file, so the code shows offline too.
    expect(Object.keys(art)).toHaveLength(64);
    const sw = await (await fetch(`${server.url}/sw.js`, { tls: { rejectUnauthorized: false } } as RequestInit)).text();
    expect(sw).toContain("/sas/art.json");

    // The spoken words are readable next to the symbols: no smaller than the body text.
    const sizes = await ann.page.evaluate(() => {
      const root = document.querySelector("vs-app")!.shadowRoot!.querySelector("vs-in-call")!.shadowRoot!;
      const px = (sel: string) => parseFloat(getComputedStyle(root.querySelector(sel)!).fontSize);
      return { name: px("[data-sas-name]"), body: parseFloat(getComputedStyle(document.body).fontSize) };
    });
    expect(sizes.name).toBeGreaterThanOrEqual(sizes.body);

    await bob.page.getByRole("button", { name: "They don't match" }).click();
    await bob.page.locator("vs-security-failure").waitFor({ timeout: 10_000 });
    await checkView(bob, "security failure");
  }, 180_000);

  test("a link that is not a group address says what was wrong and offers the cleaned-up name; guessable names get a warning", async () => {
    await ann.page.emulateMedia({ colorScheme: "light" });
    const notice = ann.page.locator("vs-landing [data-testid=bad-link]");
    const cases: [string, RegExp, string][] = [
      ["/My%20Family!", /\/My Family! isn't a group address\. Group names use only letters/, "my-family"],
      ["/" + "a".repeat(25), /at most 20 characters; this one has 25/, "a".repeat(20)],
      ["/a/b", /only one part after the server's name/, "a-b"],
      ["/%F0%9F%98%80", /\/😀 isn't a group address/, ""],
    ];
    for (const [path, reason, suggestion] of cases) {
      await ann.page.goto(`${server.url}${path}`);
      await notice.waitFor({ timeout: 10_000 });
      expect(await notice.textContent(), path).toMatch(reason);
      // Nothing was joined behind the person's back.
      expect(await hook<string | null>(ann.page, "link"), path).toBeNull();
      if (suggestion) await expect(ann.page.getByRole("button", { name: `Open ${suggestion} instead`, exact: true }).count()).resolves.toBe(1);
      else expect(await notice.textContent(), path).toMatch(/Nothing in it can be used/);
    }
    await checkView(ann, "landing with a bad link");

    await ann.page.goto(`${server.url}/My%20Family!`);
    await ann.page.getByRole("button", { name: "Open my-family instead", exact: true }).click();
    await ann.page.waitForURL(/\/my-family$/);
    await expect.poll(() => hook<string | null>(ann.page, "link"), { timeout: 10_000 }).toBe("online");

    // Upper case is the same group, no question asked.
    await ann.page.goto(`${server.url}/My-Family`);
    await ann.page.waitForURL(/\/my-family$/);
    await expect.poll(() => hook<string | null>(ann.page, "link"), { timeout: 10_000 }).toBe("online");

    await ann.page.goto(`${server.url}/`);
    await ann.page.locator("vs-landing").waitFor();
    expect(await notice.count()).toBe(0);
    const warning = ann.page.locator("vs-landing [data-testid=guessable]");
    await ann.page.locator("#group").fill("Family");
    await warning.waitFor();
    expect(await warning.textContent()).toMatch(/“family” is easy to guess.*create a private group/s);
    await checkView(ann, "landing with a guessable name");
    await ann.page.locator("#group").fill("sunny-otter-42");
    await warning.waitFor({ state: "detached" });
  }, 120_000);
});
