// A call between a browser with WebCodecs Opus and one without (AudioEncoder/AudioDecoder removed
// before the app loads, as on older Safari): the real PWA, the real server, its real CSP. The
// second phone must load the WebAssembly Opus fallback under that CSP, the call must negotiate
// "opus" (not 128 kbit/s μ-law), each side must hear the other, Call details must say which
// path runs, and the relay must still see one frame size. The CSP that lets WebAssembly compile
// must still refuse eval().
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { resolve } from "node:path";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { decodedEnvelope, hook, joinGroup, openAppBrowser, type AppBrowser } from "../helpers/browser-app.ts";
import { expectEachHearsTheOther } from "../helpers/hears-the-other.ts";

const CALLER_WAV = resolve("test/fixtures/speech-caller-48k.wav");
const CALLEE_WAV = resolve("test/fixtures/speech-callee-48k.wav");
const TALK_MS = 6000;

let server: TestServer;
let caller: AppBrowser; // WebCodecs Opus
let callee: AppBrowser; // no WebCodecs: WebAssembly Opus
const relayed: number[] = [];

beforeAll(async () => {
  server = await startTestServer();
  server.hub.relayTap = (frame) => {
    if (relayed.length < 5000) relayed.push(frame.byteLength);
  };
  [caller, callee] = await Promise.all([openAppBrowser(CALLER_WAV), openAppBrowser(CALLEE_WAV)]);
  for (const b of [caller, callee]) {
    await b.page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
      document.addEventListener("securitypolicyviolation", (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
  }
  await callee.page.addInitScript(() => {
    for (const k of ["AudioEncoder", "AudioDecoder"]) delete (globalThis as Record<string, unknown>)[k];
  });
}, 60_000);

afterAll(async () => {
  await Promise.all([caller?.chromium.close(), callee?.chromium.close()]);
  await server?.close();
});

const violations = (b: AppBrowser) => b.page.evaluate(() => [...(window as unknown as { __cspViolations: string[] }).__cspViolations]);

describe("a call between WebCodecs Opus and WebAssembly Opus", () => {
  // One retry, as for the pipeline tests: on this shared 2-core box other suites starve both
  // browsers for seconds (stale capture, bunched playback) — for WebCodecs-only calls as much.
  test("negotiates opus, each hears the other, Call details names the path, one frame size on the relay, eval still blocked", { timeout: 90_000, retry: 1 }, async () => {
    const group = `wasm-${Math.random().toString(36).slice(2, 8)}`;
    const [, calleeId] = await Promise.all([joinGroup(caller.page, `${server.url}/${group}`, "Caller"), joinGroup(callee.page, `${server.url}/${group}`, "Callee")]);
    expect(await callee.page.evaluate(() => typeof (globalThis as { AudioEncoder?: unknown }).AudioEncoder)).toBe("undefined");

    await caller.page.locator(`[data-member="${calleeId}"]`).waitFor({ timeout: 10_000 });
    await caller.page.getByRole("button", { name: "Call Callee" }).click();
    await callee.page.getByRole("button", { name: "Accept call from Caller" }).click({ timeout: 15_000 });
    for (const b of [caller, callee]) {
      await b.page.locator("vs-in-call [data-testid=call-state]", { hasText: "Encrypted" }).waitFor({ timeout: 20_000 });
    }
    // Only this call's frames: after a failed first attempt its call may still be relaying
    // while the retry sets up (a fresh-clone CI run once saw that attempt's μ-law frames here).
    relayed.length = 0;
    await caller.page.waitForTimeout(TALK_MS);

    // Both ends run Opus; only the phone without WebCodecs runs it as WebAssembly.
    const [callerDetails, calleeDetails] = await Promise.all([hook<{ codec: string; codecPath: string; sendKbps: number }>(caller.page, "details"), hook<{ codec: string; codecPath: string; sendKbps: number }>(callee.page, "details")]);
    expect(callerDetails).toMatchObject({ codec: "opus", codecPath: "" });
    expect(calleeDetails).toMatchObject({ codec: "opus", codecPath: "WebAssembly" });
    // 24 kbit/s, not μ-law's 128 (less when a starved machine drops stale capture frames).
    expect(calleeDetails.sendKbps).toBeGreaterThan(8);
    expect(calleeDetails.sendKbps).toBeLessThan(40);
    await callee.page.getByRole("button", { name: "Call details" }).click();
    await expect(callee.page.locator("[data-detail=codec]").textContent()).resolves.toBe("Opus (WebAssembly)");
    await caller.page.getByRole("button", { name: "Call details" }).click();
    await expect(caller.page.locator("[data-detail=codec]").textContent()).resolves.toBe("Opus");

    // Each side sends and receives without drops, and hears the other's voice, not its own.
    console.info(`[opus-wasm-call] details WASM side ${JSON.stringify(calleeDetails)} WebCodecs side ${JSON.stringify(callerDetails)}`);
    await expectEachHearsTheOther(caller.page, callee.page, { caller: CALLER_WAV, callee: CALLEE_WAV }, { caller: "WebCodecs side", callee: "WASM side" });

    // IDENTITY.md §7: the relay sees one frame length, whichever implementation sent it.
    expect(relayed.length).toBeGreaterThan(200);
    expect(new Set(relayed).size).toBe(1);

    // The WASM module loaded under the real CSP without a single violation, on the phone that
    // needed it; the WebCodecs phone never fetched it.
    expect(await violations(callee)).toEqual([]);
    expect(await violations(caller)).toEqual([]);
    const fetched = (b: AppBrowser) => b.page.evaluate(() => performance.getEntriesByType("resource").some((e) => e.name.includes("/audio/opus-worker.js")));
    expect(await fetched(callee)).toBe(true);
    expect(await fetched(caller)).toBe(false);

    // Attack: 'wasm-unsafe-eval' must not have opened the door to evaluating strings as script.
    // page.evaluate() itself is exempt from the CSP (DevTools allows eval for its own
    // evaluations), so the attempts run from a timer task, as the page's own code would.
    const evalResult = await callee.page.evaluate(
      () =>
        new Promise<string[]>((done) =>
          setTimeout(() => {
            const tries: string[] = [];
            for (const attempt of [() => (0, eval)("1 + 1"), () => new Function("return 1")(), () => setTimeout("window.__pwned = 1")]) {
              try {
                attempt();
                tries.push("ran");
              } catch (e) {
                tries.push((e as Error).name);
              }
            }
            done(tries);
          }),
        ),
    );
    expect(evalResult.slice(0, 2)).toEqual(["EvalError", "EvalError"]);
    await callee.page.waitForTimeout(50);
    expect(await callee.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect((await violations(callee)).filter((v) => v.startsWith("script-src")).length).toBeGreaterThanOrEqual(2);

    await caller.page.getByRole("button", { name: "Hang up call with Callee" }).click();
    expect([...caller.errors, ...callee.errors]).toEqual([]);
  });

  test("the WASM worker dies mid-call: the call moves to a new worker and both directions keep going", { timeout: 90_000, retry: 1 }, async () => {
    const group = `wasm-${Math.random().toString(36).slice(2, 8)}`;
    const [, calleeId] = await Promise.all([joinGroup(caller.page, `${server.url}/${group}`, "Caller"), joinGroup(callee.page, `${server.url}/${group}`, "Callee")]);
    await caller.page.locator(`[data-member="${calleeId}"]`).waitFor({ timeout: 10_000 });
    await caller.page.getByRole("button", { name: "Call Callee" }).click();
    await callee.page.getByRole("button", { name: "Accept call from Caller" }).click({ timeout: 15_000 });
    for (const b of [caller, callee]) await b.page.locator("vs-in-call [data-testid=call-state]", { hasText: "Encrypted" }).waitFor({ timeout: 20_000 });
    await caller.page.waitForTimeout(2000);

    type Stats = { framesReceived: number; framesSent: number };
    // Two Opus workers on the WASM side: the page's (it checked that WASM Opus runs here, so the
    // app could offer it) and the call's, started by the link worker that runs the call's media.
    const opusWorkers = () => callee.page.workers().filter((w) => w.url().includes("/audio/opus-worker.js"));
    expect(opusWorkers()).toHaveLength(2);
    const doomed = opusWorkers();
    // An uncaught error inside each, as a libopus trap would raise: whoever started a worker sees
    // its error event and gives it up; the call's codec moves to a new worker.
    for (const w of doomed) {
      await w.evaluate(() => void setTimeout(() => {
        throw new Error("test: the worker crashes");
      }));
    }
    await expect.poll(async () => (await hook<{ codecRestarts: number }>(callee.page, "details")).codecRestarts, { timeout: 10_000 }).toBe(1);
    await expect.poll(() => opusWorkers().filter((w) => !doomed.includes(w)).length, { timeout: 10_000 }).toBe(1);
    const [callerAfter, calleeAfter] = [await hook<Stats>(caller.page, "stats"), await hook<Stats>(callee.page, "stats")];
    await caller.page.waitForTimeout(3000);
    const [callerLater, calleeLater] = [await hook<Stats>(caller.page, "stats"), await hook<Stats>(callee.page, "stats")];
    // 3 s is 150 frames each way; generous bounds for a loaded machine.
    expect(calleeLater.framesSent - calleeAfter.framesSent).toBeGreaterThan(75); // the WASM encoder, on the new worker
    expect(callerLater.framesReceived - callerAfter.framesReceived).toBeGreaterThan(75);
    expect(calleeLater.framesReceived - calleeAfter.framesReceived).toBeGreaterThan(75); // the WASM decoder
    // What the WASM side plays in the last second is the caller's voice, not silence.
    const played = (await decodedEnvelope(callee.page)).envelope.slice(-100);
    expect(Math.max(...played)).toBeGreaterThan(0.01);
    expect(await hook<{ codecPath: string }>(callee.page, "details")).toMatchObject({ codecPath: "WebAssembly" });
    await caller.page.getByRole("button", { name: "Hang up call with Callee" }).click();
    expect([...caller.errors, ...callee.errors]).toEqual([]);
  });

  test("the service worker precaches the WASM module, so the app keeps Opus offline (fetched once, never run on WebCodecs phones)", { timeout: 30_000 }, async () => {
    for (const b of [caller, callee]) {
      const cached = () =>
        b.page.evaluate(async () => Promise.all(["/audio/opus-worker.js", "/audio/libopus.js", "/audio/libopus-core.js"].map(async (u) => (await caches.match(u, { ignoreSearch: true }))?.headers.get("content-type") ?? null)));
      await expect.poll(cached, { timeout: 20_000 }).toEqual([expect.stringMatching(/javascript/), expect.stringMatching(/javascript/), expect.stringMatching(/javascript/)]);
    }
  });
});
