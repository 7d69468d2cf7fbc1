// The first end-to-end call: two real headless Chromium processes, each with its own fake
// microphone, open the real PWA against the real server over TLS, call, secure the call, talk,
// and hang up. Checks what the people would check (same safety code, each hears the other) and
// what the server must never get (audio, the safety code).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { resolve } from "node:path";
import { decodeMediaHeader, MEDIA_HEADER_BYTES } from "../../protocol/media-header.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import {
  axeViolations,
  byteEntropy,
  hook,
  muLawToFloat,
  openAppBrowser,
  readWavMono16,
  rmsEnvelope,
  segmentedCorrelation,
  type AppBrowser,
  joinGroup,
} from "../helpers/browser-app.ts";
import { expectEachHearsTheOther } from "../helpers/hears-the-other.ts";
import { MEMBER_ID_RE } from "../../protocol/member-id.ts";
import { SAS_TABLE } from "../../pwa/e2ee/sas-table.ts";

const CALLER_WAV = resolve("test/fixtures/speech-caller-48k.wav");
const CALLEE_WAV = resolve("test/fixtures/speech-callee-48k.wav");
const TALK_MS = 6000;
const SHOTS = process.env.VOICESRV_SHOTS; // a directory: save screenshots of each screen there
const GCM_TAG_BYTES = 16;

let server: TestServer;
let caller: AppBrowser;
let callee: AppBrowser;
const relayed: Uint8Array[] = [];
const kxBodies: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  server.hub.relayTap = (frame) => {
    if (relayed.length < 5000) relayed.push(frame.slice());
  };
  // Record every key-exchange body the server relays, to prove the safety code never passed it.
  const hub = server.hub as unknown as { text(conn: unknown, text: string): void };
  const text = hub.text.bind(server.hub);
  hub.text = (conn, t) => {
    try {
      const m = JSON.parse(t);
      if (m?.t === "kx" && typeof m.body === "string") kxBodies.push(m.body);
    } catch {
      // not JSON: the hub answers that itself
    }
    text(conn, t);
  };
  [caller, callee] = await Promise.all([openAppBrowser(CALLER_WAV), openAppBrowser(CALLEE_WAV)]);
});

afterAll(async () => {
  await Promise.all([caller?.chromium.close(), callee?.chromium.close()]);
  await server?.close();
});

async function shot(b: AppBrowser, name: string): Promise<void> {
  if (SHOTS) await b.page.screenshot({ path: `${SHOTS}/${name}.png` });
}

describe("a call between two browsers", () => {
  test("connects, shows the same safety code, carries each voice one way, relays only ciphertext, hangs up", async () => {
    const group = `e2e-${Math.random().toString(36).slice(2, 8)}`;
    await Promise.all([joinGroup(caller.page, `${server.url}/${group}`, "Caller"), joinGroup(callee.page, `${server.url}/${group}`, "Callee")]);

    // Both see each other in the member list.
    await expect.poll(() => hook<string | null>(caller.page, "me"), { timeout: 10_000 }).toMatch(MEMBER_ID_RE);
    await expect.poll(() => hook<string | null>(callee.page, "me"), { timeout: 10_000 }).toMatch(MEMBER_ID_RE);
    const callerId = (await hook<string>(caller.page, "me"))!;
    const calleeId = (await hook<string>(callee.page, "me"))!;
    await caller.page.locator(`[data-member="${calleeId}"]`).waitFor({ timeout: 10_000 });
    await callee.page.locator(`[data-member="${callerId}"]`).waitFor({ timeout: 10_000 });
    await shot(caller, "group");

    // Caller taps Call; callee sees the full-screen incoming call and taps Accept.
    await caller.page.getByRole("button", { name: "Call Callee" }).click();
    await callee.page.getByText("Incoming call", { exact: true }).waitFor({ timeout: 10_000 });
    await expect(callee.page.locator("vs-incoming [data-testid=peer]").textContent()).resolves.toBe("Caller");
    await shot(callee, "incoming");
    expect(await axeViolations(callee.page)).toEqual([]);
    await shot(caller, "outgoing");
    await callee.page.getByRole("button", { name: "Accept call from Caller" }).click();

    // Both reach "Encrypted" only after the key exchange, and show the same four symbols.
    for (const b of [caller, callee]) {
      await b.page.locator("vs-in-call [data-testid=call-state]", { hasText: "Encrypted" }).waitFor({ timeout: 15_000 });
      expect(await hook<boolean>(b.page, "encrypted")).toBe(true);
      // The sockets and the media path run in the link worker, off the page's main thread.
      expect(await hook<string>(b.page, "linkHost")).toBe("worker");
      expect(b.page.workers().some((w) => w.url().endsWith("/link-worker.js"))).toBe(true);
    }
    const callerSas = await caller.page.locator("vs-in-call [data-sas-name]").allTextContents();
    const calleeSas = await callee.page.locator("vs-in-call [data-sas-name]").allTextContents();
    expect(callerSas).toHaveLength(4);
    expect(calleeSas).toEqual(callerSas);
    expect(await hook<string[]>(caller.page, "sas")).toEqual(callerSas);
    // The pictures are drawn from shape data (sas-art.ts); the emoji they stand for come from the table.
    const callerEmoji = callerSas.map((n) => SAS_TABLE.find((s) => s.name === n)!.emoji);

    // Talk for a while.
    await caller.page.waitForTimeout(TALK_MS);
    await shot(caller, "in-call");
    // Each side sends and receives without drops, and hears the other's voice: not silence, and
    // closer to the other's recording than to its own microphone's.
    await expectEachHearsTheOther(caller.page, callee.page, { caller: CALLER_WAV, callee: CALLEE_WAV });

    expect(await axeViolations(caller.page)).toEqual([]);

    // The relay carried only AES-GCM output: well-formed headers, uniformly random-looking
    // bodies (a plaintext Opus stream repeats its first byte, μ-law speech is far from
    // uniform), and nothing that sounds like either voice when read as μ-law audio.
    expect(relayed.length).toBeGreaterThan(200);
    // IDENTITY.md §7: every frame of the call has the same length (padded inside the ciphertext),
    // so the relay cannot follow speech by frame sizes.
    const lengths = new Set(relayed.map((f) => f.byteLength));
    console.info(`relay: frame lengths ${[...lengths].join(", ")} bytes`);
    expect(lengths.size).toBe(1);
    const bodies = relayed.map((f) => f.subarray(MEDIA_HEADER_BYTES));
    for (const f of relayed) {
      expect(decodeMediaHeader(f).type).toBe(1);
      expect(f.byteLength).toBeGreaterThan(MEDIA_HEADER_BYTES + GCM_TAG_BYTES);
    }
    const entropy = byteEntropy(bodies);
    const firstBytes = new Set(bodies.map((b) => b[0]));
    console.info(`relay: ${relayed.length} frames, ${entropy.toFixed(3)} bits/byte, ${firstBytes.size} distinct first bytes`);
    expect(entropy).toBeGreaterThan(7.9);
    expect(firstBytes.size).toBeGreaterThan(Math.min(200, relayed.length / 4));
    const callerSrc = rmsEnvelope(readWavMono16(CALLER_WAV).samples);
    const calleeSrc = rmsEnvelope(readWavMono16(CALLEE_WAV).samples);
    const asMuLaw = bodies.flatMap((b) => [...b.subarray(0, b.byteLength - GCM_TAG_BYTES)].map(muLawToFloat));
    // 16 kHz μ-law → 160 samples per 10 ms window; compare with the 48 kHz sources' envelopes.
    const relayEnv = rmsEnvelope(asMuLaw, 160).slice(0, 600);
    const relayVsCaller = segmentedCorrelation(relayEnv, callerSrc);
    const relayVsCallee = segmentedCorrelation(relayEnv, calleeSrc);
    console.info(`relay read as μ-law: correlation ${relayVsCaller.toFixed(3)} with caller, ${relayVsCallee.toFixed(3)} with callee`);
    // A random signal's envelope still finds some lag per 2 s segment that fits a little.
    expect(relayVsCaller).toBeLessThan(0.5);
    expect(relayVsCallee).toBeLessThan(0.5);

    // And fed to the real Opus decoder (the codec this call negotiated), the relayed bytes are
    // either refused or decode to something that sounds like neither voice.
    const opus = await caller.page.evaluate(async (frames: number[][]) => {
      const decode = async (chunks: Uint8Array[]) => {
        const pcm: number[] = [];
        let errors = 0;
        const decoder = new AudioDecoder({
          output: (d) => {
            const buf = new Float32Array(d.numberOfFrames);
            d.copyTo(buf, { planeIndex: 0, format: "f32-planar" });
            for (const x of buf) pcm.push(x);
            d.close();
          },
          error: () => errors++,
        });
        decoder.configure({ codec: "opus", sampleRate: 48000, numberOfChannels: 1 });
        chunks.forEach((data, i) => {
          if (decoder.state === "configured") decoder.decode(new EncodedAudioChunk({ type: "key", timestamp: i * 20000, data }));
        });
        if (decoder.state === "configured") await decoder.flush().catch(() => errors++);
        return { pcm, errors };
      };
      // Control: the same decoding path turns real Opus packets into sound, so "nothing
      // decoded" below means the relayed bytes are not Opus, not that the harness is broken.
      const real: Uint8Array[] = [];
      const encoder = new AudioEncoder({ output: (c) => { const b = new Uint8Array(c.byteLength); c.copyTo(b); real.push(b); }, error: () => {} });
      encoder.configure({ codec: "opus", sampleRate: 48000, numberOfChannels: 1, bitrate: 24000 });
      for (let i = 0; i < 25; i++) {
        const tone = Float32Array.from({ length: 960 }, (_, n) => 0.3 * Math.sin((2 * Math.PI * 440 * (i * 960 + n)) / 48000));
        encoder.encode(new AudioData({ format: "f32-planar", sampleRate: 48000, numberOfFrames: 960, numberOfChannels: 1, timestamp: i * 20000, data: tone }));
      }
      await encoder.flush();
      const control = await decode(real);
      const relayedResult = await decode(frames.map((f) => new Uint8Array(f)));
      return { ...relayedResult, controlSamples: control.pcm.length, controlErrors: control.errors };
    }, bodies.map((b) => [...b.subarray(0, b.byteLength - GCM_TAG_BYTES)]));
    expect(opus.controlErrors).toBe(0);
    expect(opus.controlSamples).toBeGreaterThan(20 * 960);
    const opusEnv = rmsEnvelope(opus.pcm, 480).slice(0, 600);
    const opusVsCaller = opusEnv.length > 50 ? segmentedCorrelation(opusEnv, callerSrc) : 0;
    const opusVsCallee = opusEnv.length > 50 ? segmentedCorrelation(opusEnv, calleeSrc) : 0;
    console.info(`relay decoded as Opus: ${opus.errors} errors, ${opus.pcm.length} samples (control: ${opus.controlSamples}), correlation ${opusVsCaller.toFixed(3)} / ${opusVsCallee.toFixed(3)}`);
    expect(opusVsCaller).toBeLessThan(0.5);
    expect(opusVsCallee).toBeLessThan(0.5);

    // The server relayed key-exchange bodies but never the safety code.
    expect(kxBodies.length).toBeGreaterThanOrEqual(6);
    // Each side proved its device inside the call's keys, once.
    expect(kxBodies.filter((b) => JSON.parse(b).k === "id")).toHaveLength(2);
    for (const body of kxBodies) {
      // Bodies are JSON with base64url/hex fields only, so neither the emoji nor the spelled-out
      // code can hide in them. (A single short name like "dog" can occur by chance inside
      // base64url, so the check is on the structure and on the whole code, not on each name.)
      const parsed = JSON.parse(body) as Record<string, unknown>;
      for (const [k, v] of Object.entries(parsed)) {
        // v2 adds "e": the identity message, itself AES-GCM ciphertext (IDENTITY.md §6).
        expect(["k", "c", "h", "p", "m", "e"]).toContain(k);
        expect(v).toMatch(/^[A-Za-z0-9_-]+$/);
      }
      expect(body.toLowerCase()).not.toContain(callerSas.join("").toLowerCase());
      for (const emoji of callerEmoji) expect(body).not.toContain(emoji);
    }

    // Hang up: both return to the group screen.
    await caller.page.getByRole("button", { name: "Hang up call with Callee" }).click();
    for (const b of [caller, callee]) {
      await b.page.locator("vs-group").waitFor({ state: "visible", timeout: 10_000 });
      await expect.poll(() => hook<string>(b.page, "state"), { timeout: 10_000 }).toBe("idle");
    }
    await expect(callee.page.locator("[data-testid=announcer]").textContent()).resolves.toMatch(/hung up|Call ended/);
    expect(caller.errors).toEqual([]);
    expect(callee.errors).toEqual([]);
  }, 60_000);
});
