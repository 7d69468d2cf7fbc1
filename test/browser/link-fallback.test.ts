// The link worker (pwa/link/) carries the sockets and a call's media off the page's main thread.
// Where it cannot start — its script blocked or missing — the same link host runs in the page,
// and calls work as they did before the worker existed. Here one person's browser gets a worker
// URL that answers 404 (the failure arrives late, as an error event, after the app has already
// queued its first socket), the other's works normally, and they call each other.
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { hook, joinGroup, openAppPeople, type AppPeople, type AppPerson } from "../helpers/browser-app.ts";

const MIC = resolve("test/fixtures/speech-caller-48k.wav");

let server: TestServer;
let app: AppPeople;
let broken: AppPerson;
let fine: AppPerson;

beforeAll(async () => {
  [server, app] = await Promise.all([startTestServer(), openAppPeople(2, MIC)]);
  [broken, fine] = app.people as [AppPerson, AppPerson];
  await broken.page.addInitScript(() => {
    const RealWorker = Worker;
    (globalThis as { Worker: unknown }).Worker = class extends RealWorker {
      constructor(url: string | URL, opts?: WorkerOptions) {
        super(String(url).includes("link-worker") ? "/no-such-link-worker.js" : url, opts);
      }
    };
  });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await server?.close();
});

describe("without its link worker", () => {
  test("the app runs the link in the page: it joins, calls, and frames flow both ways", { timeout: 60_000 }, async () => {
    const group = `fallback-${Math.random().toString(36).slice(2, 8)}`;
    const [, fineId] = await Promise.all([joinGroup(broken.page, `${server.url}/${group}`, "Pat"), joinGroup(fine.page, `${server.url}/${group}`, "Kim")]);
    expect(await hook<string>(broken.page, "linkHost")).toBe("page");
    expect(await hook<string>(fine.page, "linkHost")).toBe("worker");

    await broken.page.locator(`[data-member="${fineId}"]`).waitFor({ timeout: 10_000 });
    await broken.page.getByRole("button", { name: "Call Kim" }).click();
    await fine.page.getByRole("button", { name: "Accept call from Pat" }).click({ timeout: 15_000 });
    for (const p of [broken, fine]) await p.page.locator("vs-in-call [data-testid=call-state]", { hasText: "Encrypted" }).waitFor({ timeout: 20_000 });
    type Stats = { framesSent: number; framesReceived: number; framesDropped: number };
    const before = await hook<Stats>(broken.page, "stats");
    await broken.page.waitForTimeout(3000);
    for (const p of [broken, fine]) {
      const s = await hook<Stats>(p.page, "stats");
      expect(s.framesSent).toBeGreaterThan(75);
      expect(s.framesReceived).toBeGreaterThan(75);
      expect(s.framesDropped).toBe(0);
    }
    expect((await hook<Stats>(broken.page, "stats")).framesReceived - before.framesReceived).toBeGreaterThan(75);
    await broken.page.getByRole("button", { name: "Hang up call with Kim" }).click();
    expect([...broken.errors, ...fine.errors]).toEqual([]);
  });
});
