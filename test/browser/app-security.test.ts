// A hostile relay, as the people on the call would experience it. The test server is made to
// act like a compromised server: it swaps the initiator's revealed key (a man in the middle)
// or swallows the key exchange. Neither call may ever say "Encrypted", and no audio frame may
// leave either browser.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { resolve } from "node:path";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { hook, openAppBrowser, type AppBrowser, joinGroup } from "../helpers/browser-app.ts";
import { MEMBER_ID_RE } from "../../protocol/member-id.ts";

const CALLER_WAV = resolve("test/fixtures/speech-caller-48k.wav");
const CALLEE_WAV = resolve("test/fixtures/speech-callee-48k.wav");

type KxMode = "pass" | "swap-reveal" | "drop";

let server: TestServer;
let caller: AppBrowser;
let callee: AppBrowser;
let mode: KxMode = "pass";
let relayed = 0;

async function freshPointB64url(): Promise<string> {
  const kp = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])) as CryptoKeyPair;
  return Buffer.from(await crypto.subtle.exportKey("raw", kp.publicKey)).toString("base64url");
}

beforeAll(async () => {
  server = await startTestServer();
  server.hub.relayTap = () => void relayed++;
  const hub = server.hub as unknown as { text(conn: unknown, text: string): void };
  const text = hub.text.bind(server.hub);
  const spare = await freshPointB64url();
  hub.text = (conn, t) => {
    let m: { t?: string; body?: string; callId?: string } | null = null;
    try {
      m = JSON.parse(t);
    } catch {
      // not JSON
    }
    if (m?.t === "kx" && typeof m.body === "string" && mode !== "pass") {
      if (mode === "drop") return;
      const body = JSON.parse(m.body) as { k: string; p?: string };
      if (body.k === "reveal") t = JSON.stringify({ ...m, body: JSON.stringify({ ...body, p: spare }) });
    }
    text(conn, t);
  };
  [caller, callee] = await Promise.all([openAppBrowser(CALLER_WAV), openAppBrowser(CALLEE_WAV)]);
});

afterAll(async () => {
  await Promise.all([caller?.chromium.close(), callee?.chromium.close()]);
  await server?.close();
});

async function placeCall(group: string): Promise<void> {
  await Promise.all([joinGroup(caller.page, `${server.url}/${group}`, "Caller"), joinGroup(callee.page, `${server.url}/${group}`, "Callee")]);
  await expect.poll(() => hook<string | null>(caller.page, "me"), { timeout: 10_000 }).toMatch(MEMBER_ID_RE);
  await expect.poll(() => hook<string | null>(callee.page, "me"), { timeout: 10_000 }).toMatch(MEMBER_ID_RE);
  await caller.page.getByRole("button", { name: "Call Callee" }).click();
  await callee.page.getByRole("button", { name: "Accept call from Caller" }).click();
}

describe("a hostile relay", () => {
  test("a swapped key fails the commitment check: security screen, never 'Encrypted', no audio sent", async () => {
    mode = "swap-reveal";
    relayed = 0;
    await placeCall("mitm-check");
    await callee.page.locator("vs-security-failure [data-testid=failure-text]", { hasText: "Key check failed — the connection may be intercepted." }).waitFor({ timeout: 15_000 });
    expect(await hook<string>(callee.page, "state")).toBe("security-failure");
    // The caller only learns that the call ended before it was secured.
    await caller.page.locator("vs-outgoing [data-testid=call-state]", { hasText: "Couldn't secure the call" }).waitFor({ timeout: 10_000 });
    for (const b of [caller, callee]) expect(await hook<boolean>(b.page, "encrypted")).toBe(false);
    expect(relayed).toBe(0);
    await callee.page.getByRole("button", { name: "OK" }).click();
    await expect.poll(() => hook<string>(callee.page, "state")).toBe("idle");
  }, 40_000);

  test("a swallowed key exchange ends the call after 10 s with a plain timeout message, no audio sent", async () => {
    mode = "drop";
    relayed = 0;
    await placeCall("timeout-check");
    for (const b of [caller, callee]) {
      await b.page.locator("vs-in-call [data-testid=call-state]", { hasText: "Securing" }).waitFor({ timeout: 10_000 });
    }
    for (const b of [caller, callee]) {
      await b.page.locator("vs-outgoing [data-testid=call-state]", { hasText: "Couldn't secure the call" }).waitFor({ timeout: 15_000 });
      expect(await hook<boolean>(b.page, "encrypted")).toBe(false);
    }
    expect(relayed).toBe(0);
    mode = "pass";
  }, 40_000);
});
