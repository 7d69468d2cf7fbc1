// People, not codes (IDENTITY.md §1–§4) as a family would meet them: a name on first start,
// a private group joined through its invite link, the same person after a reload, a network
// drop and a server restart, and a second tab that takes over from the first. Real server,
// real headless Chromium; the people are isolated contexts of one browser process.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { resolve } from "node:path";
import { resolveConfig } from "../../server/config.ts";
import { startServer, type RunningServer } from "../../server/index.ts";
import { silentLogger } from "../../server/logger.ts";
import { axeViolations, hook, joinGroup, openAppPeople, passOnboarding, type AppPeople, type AppPerson } from "../helpers/browser-app.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const MIC = resolve("test/fixtures/speech-caller-48k.wav");
const SHOTS = process.env.VOICESRV_SHOTS;
/** Short, so someone who left is shown offline within the test. */
const GRACE_MS = 3000;

let server: TestServer;
let app: AppPeople;
let gran: AppPerson;
let sam: AppPerson;
let stranger: AppPerson;

beforeAll(async () => {
  [server, app] = await Promise.all([startTestServer({ limits: { resumeGraceMs: GRACE_MS } }), openAppPeople(3, MIC)]);
  [gran, sam, stranger] = app.people as [AppPerson, AppPerson, AppPerson];
});

afterAll(async () => {
  await app?.close();
  await server?.close();
});

const person = (p: AppPerson, id: string) => p.page.locator(`vs-group [data-member="${id}"]`);

describe("people and private groups", () => {
  test("a private group made on the landing page, joined by invite link; without the link nobody gets in", async () => {
    await gran.page.goto(`${server.url}/`);
    await passOnboarding(gran.page, "Grandma");
    await gran.page.locator("#private-name").fill("Oak Family");
    await gran.page.getByRole("button", { name: "Create private group" }).click();
    await gran.page.waitForURL(/\/oak-family$/);
    await expect.poll(() => hook<string | null>(gran.page, "link"), { timeout: 10_000 }).toBe("online");
    const granId = (await hook<string>(gran.page, "me"))!;
    expect(server.roster.group("oak-family")).toMatchObject({ kind: "private", createdBy: granId });

    await gran.page.getByRole("button", { name: "Invite someone to this group" }).click();
    const link = (await gran.page.locator("vs-invite-sheet [data-testid=invite-link]").textContent())!.trim();
    expect(new URL(link).pathname).toBe("/oak-family");
    expect(new URL(link).hash).toMatch(/^#[A-Za-z0-9_-]{22}$/);
    await gran.page.locator("vs-invite-sheet vs-qr-code svg").waitFor();
    expect(await axeViolations(gran.page)).toEqual([]);
    if (SHOTS) await gran.page.screenshot({ path: `${SHOTS}/invite.png` });
    await gran.page.getByRole("button", { name: "Close invite" }).click();

    // Sam opens the link once: named on first start, joined, and the secret leaves the address bar.
    const samId = await joinGroup(sam.page, link, "Sam");
    expect(new URL(sam.page.url()).hash).toBe("");
    await person(gran, samId).getByText("Sam").waitFor({ timeout: 10_000 });
    await person(sam, granId).getByText("Grandma").waitFor({ timeout: 10_000 });

    // Someone who only knows the name is refused and sees nobody.
    await stranger.page.goto(`${server.url}/oak-family`);
    await passOnboarding(stranger.page, "Eve");
    await stranger.page.getByText("This group is private.").waitFor({ timeout: 10_000 });
    expect(await stranger.page.locator("vs-group [data-member]").count()).toBe(0);
    expect(await stranger.page.content()).not.toContain("Grandma");
    expect(server.roster.members("oak-family").map((m) => m.name).sort()).toEqual(["Grandma", "Sam"]);

    // The link was needed once: Sam comes back by the plain address.
    await sam.page.goto(`${server.url}/`);
    await sam.page.goto(`${server.url}/oak-family`);
    await expect.poll(() => hook<string | null>(sam.page, "me"), { timeout: 10_000 }).toBe(samId);
  }, 60_000);

  // A dropped network is covered below the browser (presence.test.ts drops a raw TCP socket;
  // connection.test.ts scripts the app's reconnect): Chromium's offline emulation does not
  // close WebSockets that are already open, so it cannot stand in for one here.
  test("reload and server restart bring back the same people with the same names", async () => {
    const granId = await joinGroup(gran.page, `${server.url}/oak-family`);
    const samId = await joinGroup(sam.page, `${server.url}/oak-family`);

    await sam.page.reload();
    await expect.poll(() => hook<string | null>(sam.page, "me"), { timeout: 10_000 }).toBe(samId);

    // The server goes away and comes back on the same port with the same data directory.
    const { port, dataDir } = server;
    await server.stop(2000);
    const again: RunningServer = await startServer(resolveConfig([{ host: "127.0.0.1", port, dataDir, limits: { joinsPerIpPerMinute: 1_000_000, resumeGraceMs: GRACE_MS } }]), silentLogger);
    Object.assign(server, { hub: again.hub, roster: again.roster, stop: again.stop });
    for (const p of [gran, sam]) await expect.poll(() => hook<string>(p.page, "link"), { timeout: 40_000 }).toBe("online");
    expect(await hook<string>(gran.page, "me")).toBe(granId);
    expect(await hook<string>(sam.page, "me")).toBe(samId);
    await person(gran, samId).getByText("Sam").waitFor({ timeout: 10_000 });
    await person(sam, granId).getByText("Grandma").waitFor({ timeout: 10_000 });
  }, 90_000);

  test("a second tab of the same phone takes over; the first says so and can take it back", async () => {
    const samId = await joinGroup(sam.page, `${server.url}/oak-family`);
    const second = await sam.page.context().newPage();
    try {
      await second.goto(`${server.url}/oak-family`);
      await expect.poll(() => hook<string | null>(second, "me"), { timeout: 10_000 }).toBe(samId);
      await sam.page.getByText("You opened this group in another tab or window.").waitFor({ timeout: 10_000 });
      // Grandma sees one Sam, not two.
      expect(await gran.page.locator(`vs-group [data-member="${samId}"]`).count()).toBe(1);
      await sam.page.getByRole("button", { name: "Use here" }).click();
      await expect.poll(() => hook<string>(sam.page, "link"), { timeout: 10_000 }).toBe("online");
      await expect.poll(() => hook<string>(second, "link"), { timeout: 10_000 }).toBe("replaced");
    } finally {
      await second.close();
    }
  }, 40_000);

  test("offline people stay listed with when they were last seen; Settings shows name, ID, key and build", async () => {
    const samId = await joinGroup(sam.page, `${server.url}/oak-family`);
    await joinGroup(gran.page, `${server.url}/oak-family`);
    await sam.page.goto(`${server.url}/`);
    await person(gran, samId).getByText(/last seen just now/).waitFor({ timeout: 10_000 });
    expect(await person(gran, samId).getByRole("button", { name: "Call Sam" }).count()).toBe(0);

    await gran.page.getByRole("button", { name: "Settings" }).click();
    const settings = gran.page.locator("vs-settings");
    await expect(settings.locator("[data-testid=settings-id]").textContent()).resolves.toBe(await hook<string>(gran.page, "me"));
    await expect(settings.locator("[data-testid=fingerprint]").textContent()).resolves.toMatch(/^([0-9a-f]{4} ){7}[0-9a-f]{4}$/);
    await expect.poll(() => settings.locator("[data-testid=build-hash]").textContent()).toMatch(/^[0-9a-f]{32}$/);
    // Renaming reaches the group at once.
    await settings.locator("#my-name").fill("Granny");
    await settings.getByRole("button", { name: "Save name" }).click();
    await expect.poll(() => server.roster.members("oak-family").map((m) => m.name)).toContain("Granny");
    expect(await axeViolations(gran.page)).toEqual([]);
    await gran.page.getByRole("button", { name: "Close settings" }).click();

    // Leaving (a signed leave) takes Sam off the list for everyone, not just offline.
    await joinGroup(sam.page, `${server.url}/oak-family`);
    await sam.page.getByRole("button", { name: "Leave this group…" }).click();
    await sam.page.getByRole("button", { name: "Leave the group" }).click();
    await sam.page.waitForURL(/\/$/);
    await expect.poll(() => gran.page.locator(`vs-group [data-member="${samId}"]`).count(), { timeout: 10_000 }).toBe(0);
    expect(server.roster.member("oak-family", samId)).toBeNull();
    expect([...gran.errors, ...sam.errors, ...stranger.errors]).toEqual([]);
  }, 40_000);
});
