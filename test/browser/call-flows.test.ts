// Every way a call can end other than the caller hanging up, as the people would see it: the
// words on the screen of whoever did not end the call, and that both are back on the group
// screen and can call again. Real server, real headless Chromium; the people are isolated
// contexts in one browser process (what their microphones play does not matter here).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { resolve } from "node:path";
import type { Page } from "playwright-core";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { callStateLine, hook, joinGroup, openAppPeople, type AppPeople, type AppPerson } from "../helpers/browser-app.ts";

const MIC = resolve("test/fixtures/speech-caller-48k.wav");
/** Short, so a closed tab's grace runs out within the test. */
const GRACE_MS = 2000;
/** Short, so an unanswered call times out within the test. */
const RING_MS = 1500;
const SHOTS = process.env.VOICESRV_SHOTS; // a directory: save screenshots of each ending there

let server: TestServer;
let shortRing: TestServer;
let app: AppPeople;
let a: AppPerson;
let b: AppPerson;
let c: AppPerson;
/** Each person's name, chosen on first start; the app labels people by name. */
const [A, B, C] = ["Ann", "Bob", "Cat"];

beforeAll(async () => {
  [server, shortRing, app] = await Promise.all([
    startTestServer({ limits: { resumeGraceMs: GRACE_MS } }),
    startTestServer({ limits: { ringTimeoutMs: RING_MS } }),
    openAppPeople(3, MIC),
  ]);
  [a, b, c] = app.people as [AppPerson, AppPerson, AppPerson];
});

afterAll(async () => {
  await app?.close();
  await Promise.all([server?.close(), shortRing?.close()]);
});

function group(name: string): string {
  return `${name}-${Math.random().toString(36).slice(2, 8)}`;
}

async function shot(p: AppPerson, name: string): Promise<void> {
  if (SHOTS) await p.page.screenshot({ path: `${SHOTS}/flow-${name}.png` });
}

/** Waits until the call-state line reads exactly `text` (it is only shown for a few seconds). */
async function seesCallState(page: Page, text: string, timeout = 10_000): Promise<void> {
  await callStateLine(page).filter({ hasText: text }).waitFor({ timeout });
  expect((await callStateLine(page).textContent())?.trim()).toBe(text);
}

/** Back on the group screen with no call screen left over, and the app idle. */
async function atGroup(p: AppPerson, timeout = 10_000): Promise<void> {
  await p.page.locator("vs-group").waitFor({ state: "visible", timeout });
  await expect.poll(() => hook<string>(p.page, "state"), { timeout }).toBe("idle");
  expect(await p.page.locator("vs-incoming, vs-outgoing, vs-in-call, vs-security-failure").count()).toBe(0);
}

/** Taps Back on an ending screen rather than waiting out its auto-close. */
async function back(p: AppPerson): Promise<void> {
  await p.page.getByRole("button", { name: "Back", exact: true }).click();
  await atGroup(p);
}

/** `from` taps Call; `to` sees the full-screen incoming call naming `from`; `from` sees Ringing. */
async function ring(from: AppPerson, fromName: string, to: AppPerson, toName: string): Promise<void> {
  await from.page.getByRole("button", { name: `Call ${toName}` }).click();
  await to.page.getByText("Incoming call", { exact: true }).waitFor({ timeout: 10_000 });
  expect(await to.page.locator("vs-incoming [data-testid=peer]").textContent()).toBe(fromName);
  await seesCallState(from.page, "Ringing…");
}

async function connectEncrypted(from: AppPerson, fromName: string, to: AppPerson, toName: string): Promise<void> {
  await ring(from, fromName, to, toName);
  await to.page.getByRole("button", { name: `Accept call from ${fromName}` }).click();
  for (const p of [from, to])
    await p.page.locator("vs-in-call [data-testid=call-state]", { hasText: "Encrypted" }).waitFor({ timeout: 15_000 });
}

function memberStatus(page: Page, id: string): Promise<string | null> {
  return page.locator(`[data-member="${id}"] [data-testid=member-status]`).textContent({ timeout: 5000 });
}

describe("call flows", () => {
  test("decline: the caller reads 'Declined', both return to the group, and the call back connects", async () => {
    const url = `${server.url}/${group("decline")}`;
    const [aId, bId] = await Promise.all([joinGroup(a.page, url, A), joinGroup(b.page, url, B)]);
    await ring(a, A, b, B);

    await b.page.getByRole("button", { name: `Decline call from ${A}` }).click();
    await seesCallState(a.page, "Declined");
    await shot(a, "declined");
    await atGroup(b);
    await back(a);
    await expect.poll(() => memberStatus(b.page, aId)).toBe("Available");

    // Nothing of the declined call lingers on either side: the callee can call straight back.
    await connectEncrypted(b, B, a, A);
    await b.page.getByRole("button", { name: `Hang up call with ${A}` }).click();
    await Promise.all([atGroup(a), atGroup(b)]);
    expect([...a.errors, ...b.errors]).toEqual([]);
  }, 30_000);

  test("hang-up from the callee's side of an encrypted call: the caller reads who hung up, both return to the group", async () => {
    const url = `${server.url}/${group("hangup")}`;
    const [aId, bId] = await Promise.all([joinGroup(a.page, url, A), joinGroup(b.page, url, B)]);
    await connectEncrypted(a, A, b, B);

    await b.page.getByRole("button", { name: `Hang up call with ${A}` }).click();
    await atGroup(b);
    await seesCallState(a.page, `${B} hung up`);
    await shot(a, "hung-up");
    // The in-call ending closes by itself.
    await atGroup(a);
    await expect.poll(() => memberStatus(a.page, bId)).toBe("Available");
    expect([...a.errors, ...b.errors]).toEqual([]);
  }, 30_000);

  test("busy: a third person sees the callee as on a call, and a call that slips through reads 'Busy'", async () => {
    const url = `${server.url}/${group("busy")}`;
    const [aId, bId] = await Promise.all([joinGroup(a.page, url, A), joinGroup(b.page, url, B), joinGroup(c.page, url, C)]);
    await ring(a, A, b, B);

    await expect.poll(() => memberStatus(c.page, bId)).toBe("On a call");
    await expect.poll(() => memberStatus(c.page, aId)).toBe("On a call");
    expect(await c.page.getByRole("button", { name: `Call ${B}` }).isDisabled()).toBe(true);
    // A tap that lands just before the status update arrived: the same event the Call button
    // sends, because a disabled button cannot be clicked.
    await c.page.locator("vs-group").evaluate((el, id) => el.dispatchEvent(new CustomEvent("call", { detail: id, bubbles: true, composed: true })), bId);
    await seesCallState(c.page, "Busy — they're on another call");
    await shot(c, "busy");
    // The busy signal did not disturb the call it ran into.
    expect(await b.page.locator("vs-incoming [data-testid=peer]").textContent()).toBe(A);
    await seesCallState(a.page, "Ringing…");
    await back(c);

    await a.page.getByRole("button", { name: "Cancel call" }).click();
    await Promise.all([atGroup(a), b.page.locator("vs-incoming").waitFor({ state: "detached" })]);
    expect([...a.errors, ...b.errors, ...c.errors]).toEqual([]);
  }, 30_000);

  test("cancel: the callee's incoming screen goes away and says whose call was missed", async () => {
    const url = `${server.url}/${group("cancel")}`;
    const [aId, bId] = await Promise.all([joinGroup(a.page, url, A), joinGroup(b.page, url, B)]);
    await ring(a, A, b, B);

    await a.page.getByRole("button", { name: "Cancel call" }).click();
    await atGroup(a);
    await b.page.locator("vs-incoming").waitFor({ state: "detached", timeout: 5000 });
    await seesCallState(b.page, `Missed call from ${A}`);
    await shot(b, "cancelled");
    await back(b);
    expect([...a.errors, ...b.errors]).toEqual([]);
  }, 30_000);

  test("no answer: after the ring timeout the caller reads 'No answer' and the callee's incoming screen goes away", async () => {
    const url = `${shortRing.url}/${group("noanswer")}`;
    const [aId, bId] = await Promise.all([joinGroup(a.page, url, A), joinGroup(b.page, url, B)]);
    const rangAt = Date.now();
    await ring(a, A, b, B);

    await seesCallState(a.page, "No answer", RING_MS + 5000);
    const after = Date.now() - rangAt;
    console.info(`no answer shown ${after} ms after the tap (ring timeout ${RING_MS} ms)`);
    expect(after).toBeGreaterThanOrEqual(RING_MS - 100);
    await shot(a, "no-answer");
    await b.page.locator("vs-incoming").waitFor({ state: "detached", timeout: 5000 });
    await seesCallState(b.page, `Missed call from ${A}`);
    await Promise.all([back(a), back(b)]);
    expect([...a.errors, ...b.errors]).toEqual([]);
  }, 30_000);

  test("a call to someone still on the security-failure screen is declined at once, not left ringing", async () => {
    const url = `${server.url}/${group("sasfail")}`;
    const [aId, bId, cId] = await Promise.all([joinGroup(a.page, url, A), joinGroup(b.page, url, B), joinGroup(c.page, url, C)]);
    await connectEncrypted(a, A, b, B);
    await b.page.getByRole("button", { name: "They don't match" }).click();
    await b.page.locator("vs-security-failure").waitFor({ timeout: 5000 });
    await expect.poll(() => memberStatus(c.page, bId)).toBe("Available");

    await c.page.getByRole("button", { name: `Call ${B}` }).click();
    await seesCallState(c.page, "Declined", 5000);
    expect(await hook<string>(b.page, "state")).toBe("security-failure");
    await back(c);
    await b.page.getByRole("button", { name: "OK", exact: true }).click();
    await atGroup(b);
    expect([...a.errors, ...b.errors, ...c.errors]).toEqual([]);
  }, 40_000);

  // Last: it closes b's page.
  test("the callee closes the tab mid-call: the caller reads 'Went offline' once the grace runs out, and the callee leaves the list", async () => {
    const url = `${server.url}/${group("closetab")}`;
    const [aId, bId] = await Promise.all([joinGroup(a.page, url, A), joinGroup(b.page, url, B)]);
    await connectEncrypted(a, A, b, B);

    const closedAt = Date.now();
    await b.page.close();
    // The closing tab asks the server to keep its ID (a phone's tab may come back), so the
    // caller first waits for it, then the call ends.
    await a.page.getByText(`Waiting for ${B}'s connection.`).waitFor({ timeout: 5000 });
    await shot(a, "peer-away");
    await seesCallState(a.page, "Went offline", GRACE_MS + 5000);
    const after = Date.now() - closedAt;
    console.info(`'Went offline' shown ${after} ms after the callee's tab closed (grace ${GRACE_MS} ms)`);
    expect(after).toBeGreaterThanOrEqual(GRACE_MS - 100);
    await shot(a, "went-offline");
    await atGroup(a);
    // Still in the group, now offline: listed with when they were last seen, with no Call button.
    await expect.poll(() => memberStatus(a.page, bId)).toBe("last seen just now");
    expect(await a.page.getByRole("button", { name: `Call ${B}` }).count()).toBe(0);
    expect(a.errors).toEqual([]);
  }, 30_000);
});
