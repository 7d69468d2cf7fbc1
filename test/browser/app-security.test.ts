// A hostile relay, as the people on the call would experience it. The test server is made to
// act like a compromised server: it swaps the initiator's revealed key (a man in the middle)
// or swallows the key exchange. Neither call may ever say "Encrypted", and no audio frame may
// leave either browser.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { resolve } from "node:path";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { hook, openAppBrowser, type AppBrowser, joinGroup } from "../helpers/browser-app.ts";
import { MEMBER_ID_RE } from "../../protocol/member-id.ts";
import { KeyExchange } from "../../pwa/e2ee/index.ts";
import { signWithDevice } from "../../protocol/identity-v2.ts";
import { TestDevice } from "../helpers/test-device.ts";

/** The hub's view of a socket, as far as the relay below needs it. */
type Conn = { socket: { sendText(t: string): void } };

/**
 * A full man in the middle, as a compromised server would run it: its own key exchange with
 * each side (IDENTITY.md v2, with the real codec offers), and its own device key for the `id`
 * messages — everything an attacker can do without the people's device keys.
 */
class MitmRelay {
  private callerConn: Conn | null = null;
  private callerCodecs = "";
  private legs: { toCaller: KeyExchange; toCallee: KeyExchange } | null = null;
  constructor(private readonly device: TestDevice) {}

  /** Returns true when the message was taken over by the relay. */
  intercept(conn: Conn, m: { t?: string; body?: string; callId?: string; codecs?: string[] }): boolean {
    if (m.t === "call") {
      this.callerConn = conn;
      this.callerCodecs = JSON.stringify(m.codecs);
    } else if (m.t === "answer" && this.callerConn && m.callId) {
      this.start(m.callId, conn, JSON.stringify(m.codecs));
    } else if (m.t === "kx" && this.legs && typeof m.body === "string") {
      (conn === this.callerConn ? this.legs.toCaller : this.legs.toCallee).receive(m.body);
      return true;
    }
    return false;
  }

  private start(callId: string, calleeConn: Conn, calleeCodecs: string): void {
    const te = new TextEncoder();
    const v2 = {
      offerI: te.encode(this.callerCodecs),
      offerR: te.encode(calleeCodecs),
      psk: null,
      device: { publicKey: this.device.publicKey, sign: (msg: Uint8Array<ArrayBuffer>) => signWithDevice(this.device.keys.privateKey, msg) },
    };
    const deliver = (to: Conn) => (body: string) => to.socket.sendText(JSON.stringify({ t: "kx", callId, body }));
    this.legs = {
      toCaller: new KeyExchange({ callId, role: "responder", send: deliver(this.callerConn!), v2 }),
      toCallee: new KeyExchange({ callId, role: "initiator", send: deliver(calleeConn), v2 }),
    };
    void this.legs.toCaller.start().catch(() => {});
    void this.legs.toCallee.start().catch(() => {});
  }
}

const CALLER_WAV = resolve("test/fixtures/speech-caller-48k.wav");
const CALLEE_WAV = resolve("test/fixtures/speech-callee-48k.wav");

type KxMode = "pass" | "swap-reveal" | "drop" | "mitm";

let server: TestServer;
let caller: AppBrowser;
let callee: AppBrowser;
let mode: KxMode = "pass";
let mitm: MitmRelay;
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
  mitm = new MitmRelay(await TestDevice.create());
  hub.text = (conn, t) => {
    let m: { t?: string; body?: string; callId?: string; codecs?: string[] } | null = null;
    try {
      m = JSON.parse(t);
    } catch {
      // not JSON
    }
    if (mode === "mitm" && m && mitm.intercept(conn as Conn, m)) return;
    if (m?.t === "kx" && typeof m.body === "string" && (mode === "swap-reveal" || mode === "drop")) {
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

  test("against verified contacts, a relay running its own key exchange on both legs ends the call with the warning, before any audio", async () => {
    // First the two people verify each other once, on an honest server.
    mode = "pass";
    await placeCall("verified-mitm");
    for (const b of [caller, callee]) await b.page.locator("vs-in-call [data-testid=call-state]", { hasText: "Encrypted · not verified yet" }).waitFor({ timeout: 15_000 });
    for (const b of [caller, callee]) await b.page.getByRole("button", { name: "They match" }).click();
    await caller.page.getByRole("button", { name: "Hang up call with Callee" }).click();
    for (const b of [caller, callee]) await expect.poll(() => hook<string>(b.page, "state"), { timeout: 15_000 }).toBe("idle");

    // Now the server sits in the middle. Each leg's key exchange completes with the relay, so
    // neither confirm nor commitment can catch it — the device keys do.
    mode = "mitm";
    relayed = 0;
    await placeCall("verified-mitm");
    // Whoever finishes its identity check first sees the warning and hangs up; the other one is
    // then either at its own check (the same warning) or still setting up ("Couldn't secure the
    // call"). Neither is ever told "Encrypted" or "Verified", and no audio frame moves.
    const warning = (b: AppBrowser) => b.page.locator("vs-security-failure [data-testid=failure-text]", { hasText: "This isn't the phone you verified for this person" });
    const notSecured = (b: AppBrowser) => b.page.locator("vs-outgoing [data-testid=call-state]", { hasText: "Couldn't secure the call" });
    const outcomes = await Promise.all(
      [caller, callee].map(async (b) => {
        const seen = await Promise.race([
          warning(b).waitFor({ timeout: 15_000 }).then(() => "warning"),
          notSecured(b).waitFor({ timeout: 15_000 }).then(() => "not-secured"),
        ]);
        expect(await hook<boolean>(b.page, "encrypted")).toBe(false);
        return seen;
      }),
    );
    console.info(`verified contacts vs. a key-swapping relay: caller ${outcomes[0]}, callee ${outcomes[1]}`);
    expect(outcomes).toContain("warning");
    expect(relayed).toBe(0);
    mode = "pass";
    for (const [i, b] of [caller, callee].entries()) if (outcomes[i] === "warning") await b.page.getByRole("button", { name: "OK" }).click();
  }, 60_000);
});
