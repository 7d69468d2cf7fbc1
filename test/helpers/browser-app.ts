// Drives the real PWA in headless Chromium for browser tests, plus the signal maths the call
// test uses to tell which voice came out of which side.
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium as playwrightChromium, type Browser, type Page } from "playwright-core";
import { CHROMIUM_PATH, chromiumArgs, launchChromium, type LaunchedChromium } from "./chromium.ts";

export const PHONE = { width: 390, height: 844 };

/** 10 ms of 48 kHz audio: the envelope resolution used for correlation. */
const ENV_WINDOW = 480;

export interface AppBrowser {
  chromium: LaunchedChromium;
  page: Page;
  errors: string[];
}

/**
 * One Chromium process per person, each with its own fake microphone file. The app passes the
 * decoded PCM to `window.__voicesrvPcmTap` only when a test defines it; here it is reduced to a
 * 10 ms RMS envelope inside the page so that only a few numbers cross the wire.
 */
export async function openAppBrowser(fakeMicWav: string): Promise<AppBrowser> {
  const chromium = await launchChromium({ fakeAudioCapture: fakeMicWav, extraArgs: ["--ignore-certificate-errors"] });
  const page = await chromium.context.newPage();
  await page.setViewportSize(PHONE);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.addInitScript((win: number) => {
    const w = window as unknown as { __voicesrvPcmTap: (pcm: Float32Array) => void; __pcmEnvelope: number[]; __pcmPeak: number };
    w.__pcmEnvelope = [];
    w.__pcmPeak = 0;
    w.__voicesrvPcmTap = (pcm: Float32Array) => {
      for (let off = 0; off + win <= pcm.length; off += win) {
        let sum = 0;
        for (let i = off; i < off + win; i++) {
          const v = pcm[i]!;
          sum += v * v;
          if (Math.abs(v) > w.__pcmPeak) w.__pcmPeak = Math.abs(v);
        }
        w.__pcmEnvelope.push(Math.sqrt(sum / win));
      }
    };
  }, ENV_WINDOW);
  return { chromium, page, errors };
}

export interface AppPerson {
  page: Page;
  errors: string[];
}

export interface AppPeople {
  browser: Browser;
  people: AppPerson[];
  close(): Promise<void>;
}

/**
 * Several people in ONE Chromium process, each in an isolated context (own storage, own
 * service worker), for flows where what the microphone plays does not matter: one process
 * costs far less than one per person on a small machine. Same fixed flags as launchChromium.
 */
export async function openAppPeople(count: number, fakeMicWav: string): Promise<AppPeople> {
  const userDataDir = await mkdtemp(join(tmpdir(), "voicesrv-chromium-"));
  const browser = await playwrightChromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    ignoreDefaultArgs: true,
    args: [
      ...chromiumArgs(fakeMicWav, ["--ignore-certificate-errors"]),
      "--headless",
      "--remote-debugging-pipe",
      "--no-startup-window",
      `--user-data-dir=${userDataDir}`,
    ],
  });
  const people = await Promise.all(
    Array.from({ length: count }, async () => {
      const context = await browser.newContext({ viewport: PHONE });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      return { page, errors };
    }),
  );
  return {
    browser,
    people,
    async close() {
      await browser.close().catch(() => {});
      await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
    },
  };
}

/**
 * First start asks for a name ("What should your family call you?"); answers it when it shows,
 * and returns once the app shows its landing or group screen.
 */
export async function passOnboarding(page: Page, name = "Tester"): Promise<void> {
  const onboarding = page.locator("vs-onboarding input");
  const app = page.locator("vs-landing, vs-group");
  await onboarding.or(app).first().waitFor({ timeout: 10_000 });
  if (await onboarding.isVisible()) {
    await onboarding.fill(name);
    await page.getByRole("button", { name: "Continue" }).click();
    await app.first().waitFor({ timeout: 10_000 });
  }
}

/** Opens a group page (naming this person on first start) and waits until it has an ID. */
export async function joinGroup(page: Page, url: string, name?: string): Promise<string> {
  await page.goto(url);
  await passOnboarding(page, name);
  await page.locator("vs-group [data-testid=my-id]", { hasText: /^[0-9A-HJKMNP-TV-Z]{6}$/ }).waitFor({ timeout: 10_000 });
  return (await hook<string>(page, "me"))!;
}

/** The text on the calling / call-ended screen ("Ringing…", "Declined", …). */
export function callStateLine(page: Page) {
  return page.locator("vs-outgoing [data-testid=call-state]");
}

export async function decodedEnvelope(page: Page): Promise<{ envelope: number[]; peak: number }> {
  return page.evaluate(() => {
    const w = window as unknown as { __pcmEnvelope: number[]; __pcmPeak: number };
    return { envelope: [...w.__pcmEnvelope], peak: w.__pcmPeak };
  });
}

let axeSource: string | null = null;

/** Serious and critical axe-core findings on the current screen (open shadow roots included). */
export async function axeViolations(page: Page): Promise<string[]> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  // evaluate() runs outside the page's CSP, which (rightly) forbids injecting a script tag.
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    type Result = { violations: { id: string; impact: string; nodes: unknown[] }[] };
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<Result> } }).axe;
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id} (${v.nodes.length})`);
  });
}

export async function hook<T = unknown>(page: Page, field: string): Promise<T> {
  return page.evaluate((f) => (window as unknown as { __voicesrv: Record<string, unknown> }).__voicesrv[f] as never, field);
}

/** Mono 16-bit PCM samples of a WAV file, as floats in [-1, 1]. */
export function readWavMono16(path: string): { samples: Float32Array; sampleRate: number } {
  const buf = readFileSync(path);
  if (buf.toString("ascii", 0, 4) !== "RIFF" || buf.toString("ascii", 8, 12) !== "WAVE") throw new Error(`${path} is not a WAV file`);
  let off = 12;
  let sampleRate = 0;
  while (off + 8 <= buf.length) {
    const id = buf.toString("ascii", off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === "fmt ") {
      if (buf.readUInt16LE(off + 8) !== 1 || buf.readUInt16LE(off + 10) !== 1 || buf.readUInt16LE(off + 22) !== 16) throw new Error("expected mono 16-bit PCM");
      sampleRate = buf.readUInt32LE(off + 12);
    } else if (id === "data") {
      const n = Math.floor(Math.min(size, buf.length - off - 8) / 2);
      const samples = new Float32Array(n);
      for (let i = 0; i < n; i++) samples[i] = buf.readInt16LE(off + 8 + 2 * i) / 32768;
      return { samples, sampleRate };
    }
    off += 8 + size + (size & 1);
  }
  throw new Error(`${path} has no data chunk`);
}

export function rmsEnvelope(samples: ArrayLike<number>, win = ENV_WINDOW): number[] {
  const out: number[] = [];
  for (let off = 0; off + win <= samples.length; off += win) {
    let sum = 0;
    for (let i = off; i < off + win; i++) sum += samples[i]! * samples[i]!;
    out.push(Math.sqrt(sum / win));
  }
  return out;
}

/** Log energy with a floor, so digital silence and a noise-suppressed pause compare as equal. */
function logEnv(env: readonly number[]): number[] {
  return env.map((v) => Math.log10(Math.max(v, 1e-3)));
}

/**
 * Best Pearson correlation of `heard` against the looping `source` envelope over every circular
 * lag (Chromium loops the fake microphone file). Speech envelopes of two different voices
 * correlate weakly at their best lag; the same recording after a codec correlates strongly.
 */
export function bestLoopCorrelation(heard: readonly number[], source: readonly number[]): { r: number; lag: number } {
  const h = logEnv(heard);
  const s = logEnv(source);
  const n = h.length;
  const hm = h.reduce((a, b) => a + b, 0) / n;
  const hc = h.map((v) => v - hm);
  const hn = Math.sqrt(hc.reduce((a, b) => a + b * b, 0));
  let best = { r: -1, lag: 0 };
  for (let lag = 0; lag < s.length; lag++) {
    let sm = 0;
    for (let i = 0; i < n; i++) sm += s[(lag + i) % s.length]!;
    sm /= n;
    let dot = 0;
    let sn = 0;
    for (let i = 0; i < n; i++) {
      const v = s[(lag + i) % s.length]! - sm;
      dot += hc[i]! * v;
      sn += v * v;
    }
    const r = hn > 0 && sn > 0 ? dot / (hn * Math.sqrt(sn)) : 0;
    if (r > best.r) best = { r, lag };
  }
  return best;
}

/**
 * Median of bestLoopCorrelation over 2 s segments (hop 0.5 s). The receiver's jitter buffer
 * stretches and shrinks its delay during a call, so one lag cannot align a whole recording;
 * per segment it can. The median keeps one glitchy segment (a busy test machine) from
 * deciding the result.
 */
export function segmentedCorrelation(heard: readonly number[], source: readonly number[], seg = 200): number {
  const rs: number[] = [];
  for (let i = 0; i + seg <= heard.length; i += seg / 4) rs.push(bestLoopCorrelation(heard.slice(i, i + seg), source).r);
  if (rs.length === 0) return 0;
  rs.sort((a, b) => a - b);
  const mid = rs.length >> 1;
  return rs.length % 2 ? rs[mid]! : (rs[mid - 1]! + rs[mid]!) / 2;
}

/** The stretch of the decoded envelope after audio first arrived (before it: jitter-buffer silence). */
export function trimLeadingSilence(env: readonly number[], threshold = 1e-3, settle = 50): number[] {
  const first = env.findIndex((v) => v > threshold);
  // The first half second is the microphone's gain control and the jitter buffer settling.
  return first < 0 ? [] : env.slice(first + settle);
}

/** Shannon entropy in bits per byte. */
export function byteEntropy(chunks: readonly Uint8Array[]): number {
  const counts = new Float64Array(256);
  let total = 0;
  for (const c of chunks) {
    for (const b of c) counts[b]!++;
    total += c.length;
  }
  let h = 0;
  for (const n of counts) if (n > 0) h -= (n / total) * Math.log2(n / total);
  return h;
}

/** G.711 μ-law byte → linear float: how a plaintext "pcmu16" payload would be heard. */
export function muLawToFloat(b: number): number {
  const u = ~b & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return (sign ? -magnitude : magnitude) / 32768;
}
