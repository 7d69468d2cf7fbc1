// Calls that verify themselves (IDENTITY.md §5–§6) as people meet them: "not verified yet" and
// the symbols with someone new; "They match" makes a verified contact, and the next call says
// "Verified" with no symbols to compare; a reset phone is a "new safety key"; "They don't
// match" tells the other side. Real server, real headless Chromium (isolated contexts).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { resolve } from "node:path";
import type { Page } from "playwright-core";
import { axeViolations, hook, joinGroup, openAppPeople, type AppPeople, type AppPerson } from "../helpers/browser-app.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const MIC = resolve("test/fixtures/speech-caller-48k.wav");
const SHOTS = process.env.VOICESRV_SHOTS;

let server: TestServer;
let app: AppPeople;
let ann: AppPerson;
let bob: AppPerson;
let url: string;

beforeAll(async () => {
  [server, app] = await Promise.all([startTestServer({ limits: { resumeGraceMs: 1000 } }), openAppPeople(2, MIC)]);
  [ann, bob] = app.people as [AppPerson, AppPerson];
  url = `${server.url}/verify-${Math.random().toString(36).slice(2, 8)}`;
});

afterAll(async () => {
  await app?.close();
  await server?.close();
});

const state = (p: Page) => p.locator("vs-in-call [data-testid=call-state]");

async function connect(from: AppPerson, toName: string, to: AppPerson, fromName: string): Promise<void> {
  await from.page.getByRole("button", { name: `Call ${toName}` }).click();
  await to.page.getByRole("button", { name: `Accept call from ${fromName}` }).click();
  for (const p of [from, to]) await state(p.page).filter({ hasText: /^(Encrypted|Verified)/ }).waitFor({ timeout: 15_000 });
}

async function hangUp(p: AppPerson, peerName: string): Promise<void> {
  await p.page.getByRole("button", { name: `Hang up call with ${peerName}` }).click();
  await expect.poll(() => hook<string>(p.page, "state"), { timeout: 10_000 }).toMatch(/idle|ended/);
}

describe("verified contacts", () => {
  test("someone new: 'not verified yet' with symbols; 'They match' once, and the next call is 'Verified' at once", async () => {
    await Promise.all([joinGroup(ann.page, url, "Ann"), joinGroup(bob.page, url, "Bob")]);
    await connect(ann, "Bob", bob, "Ann");
    for (const p of [ann, bob]) {
      await expect(state(p.page).textContent()).resolves.toBe("Encrypted · not verified yet");
      await p.page.locator("vs-in-call [data-testid=sas]").waitFor();
    }
    expect(await hook<string[]>(ann.page, "sas")).toEqual(await hook<string[]>(bob.page, "sas"));
    expect(await axeViolations(ann.page)).toEqual([]);
    for (const p of [ann, bob]) await p.page.getByRole("button", { name: "They match" }).click();
    await state(ann.page).filter({ hasText: "Verified · Bob" }).waitFor({ timeout: 5000 });
    await hangUp(ann, "Bob");
    await bob.page.locator("vs-group").waitFor({ timeout: 10_000 });

    await connect(bob, "Ann", ann, "Bob");
    await expect(state(ann.page).textContent()).resolves.toBe("Verified · Bob");
    await expect(state(bob.page).textContent()).resolves.toBe("Verified · Ann");
    // No symbols in the way, one tap away.
    expect(await ann.page.locator("vs-in-call [data-testid=sas]").count()).toBe(0);
    if (SHOTS) await ann.page.screenshot({ path: `${SHOTS}/verified.png` });
    await ann.page.getByRole("button", { name: "Show safety code" }).click();
    await ann.page.locator("vs-in-call [data-testid=sas]").waitFor();
    await hangUp(bob, "Ann");

    // Settings lists the contact, only on this phone.
    await ann.page.locator("vs-group").waitFor({ timeout: 10_000 });
    await ann.page.getByRole("button", { name: "Settings" }).click();
    await ann.page.locator("vs-settings [data-contact]", { hasText: "Bob" }).waitFor({ timeout: 5000 });
    await ann.page.getByRole("button", { name: "Close settings" }).click();
  }, 90_000);

  test("a verified contact on a new key (reset phone) is a 'new safety key' to compare, never silently trusted", async () => {
    await bob.page.getByRole("button", { name: "Settings" }).click();
    await bob.page.getByRole("button", { name: "Reset this phone's identity…" }).click();
    await bob.page.getByRole("button", { name: "Reset identity", exact: true }).click();
    await bob.page.waitForEvent("load");
    const newBob = await joinGroup(bob.page, url);
    await ann.page.locator(`vs-group [data-member="${newBob}"]`).waitFor({ timeout: 10_000 });
    await ann.page.locator(`vs-group [data-member="${newBob}"]`).getByRole("button", { name: "Call Bob" }).click();
    await bob.page.getByRole("button", { name: "Accept call from Ann" }).click();
    await state(ann.page).filter({ hasText: "Encrypted · new safety key" }).waitFor({ timeout: 15_000 });
    await ann.page.locator("vs-in-call [data-testid=key-changed]").waitFor();
    if (SHOTS) await ann.page.screenshot({ path: `${SHOTS}/key-changed.png` });
    await hangUp(ann, "Bob");
  }, 60_000);

  test("'They don't match' ends the call and the other side is told", async () => {
    for (const p of [ann, bob]) await expect.poll(() => hook<string>(p.page, "state"), { timeout: 15_000 }).toBe("idle");
    await connect(bob, "Ann", ann, "Bob");
    // Bob still has Ann verified (his contacts outlived his reset); Ann sees Bob's new key.
    await expect(state(bob.page).textContent()).resolves.toBe("Verified · Ann");
    await ann.page.getByRole("button", { name: "They don't match" }).click();
    const failure = bob.page.locator("vs-security-failure [data-testid=failure-text]");
    await failure.waitFor({ timeout: 10_000 });
    await expect(failure.textContent()).resolves.toContain("Ann saw different safety symbols");
    await ann.page.locator("vs-security-failure").waitFor();
    expect(await axeViolations(bob.page)).toEqual([]);
    expect([...ann.errors, ...bob.errors]).toEqual([]);
  }, 60_000);
});
