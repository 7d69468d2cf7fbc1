// Two people in two headless Chromium processes (the fixed flags of test/helpers/chromium.ts),
// each with a fake microphone file, in a real call through a real server. Shared by the latency
// benchmark and the browser test that bounds the start-up delay.
import type { Page } from "playwright-core";
import { joinGroup } from "../../test/helpers/browser-app.ts";
import { launchChromium, type LaunchedChromium } from "../../test/helpers/chromium.ts";
import { installLatencyProbe, type ProbeData } from "./page-probe.ts";

export interface Person {
  chromium: LaunchedChromium;
  page: Page;
  id: string;
  /** The display name this person chose at first start (buttons are labelled with it). */
  name: string;
  errors: string[];
}

export interface CallPair {
  caller: Person;
  callee: Person;
  /** Date.now() when both sides showed "Encrypted" (audio flows from then on). */
  securedAtMs: number;
  hangUp(): Promise<void>;
  close(): Promise<void>;
}

/** Diagnostics run in both pages before the app (`page`) and in each page's link worker as it starts (`linkWorker`). */
export interface ExtraInit {
  page?: () => void;
  linkWorker?: () => void;
}

async function openPerson(micWav: string, url: string, name: string, extraInit: ExtraInit = {}): Promise<Person> {
  const chromium = await launchChromium({ fakeAudioCapture: micWav, extraArgs: ["--ignore-certificate-errors"] });
  try {
    const page = await chromium.context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.addInitScript(installLatencyProbe);
    if (extraInit.page) await page.addInitScript(extraInit.page);
    const inWorker = extraInit.linkWorker;
    if (inWorker) page.on("worker", (w) => void (w.url().endsWith("/link-worker.js") && w.evaluate(inWorker).catch(() => {})));
    const id = await joinGroup(page, url, name);
    return { chromium, page, id, name, errors };
  } catch (e) {
    await chromium.close();
    throw e;
  }
}

/** `origin` e.g. "https://127.0.0.1:8443" (the server, or an impairment proxy in front of it). */
export async function openCallPair(origin: string, callerWav: string, calleeWav: string, extraInit?: ExtraInit): Promise<CallPair> {
  const group = `lat-${Math.random().toString(36).slice(2, 8)}`;
  const [a, b] = await Promise.allSettled([openPerson(callerWav, `${origin}/${group}`, "Caller", extraInit), openPerson(calleeWav, `${origin}/${group}`, "Callee", extraInit)]);
  if (a.status === "rejected" || b.status === "rejected") {
    if (a.status === "fulfilled") await a.value.chromium.close();
    if (b.status === "fulfilled") await b.value.chromium.close();
    throw (a.status === "rejected" ? a.reason : (b as PromiseRejectedResult).reason) as Error;
  }
  const caller = a.value;
  const callee = b.value;
  const close = async () => {
    await Promise.all([caller.chromium.close(), callee.chromium.close()]);
  };
  try {
    await caller.page.locator(`[data-member="${callee.id}"]`).waitFor({ timeout: 20_000 });
    await caller.page.getByRole("button", { name: `Call ${callee.name}` }).click();
    await callee.page.getByRole("button", { name: `Accept call from ${caller.name}` }).click({ timeout: 20_000 });
    for (const p of [caller, callee]) {
      await p.page.locator("vs-in-call [data-testid=call-state]", { hasText: "Encrypted" }).waitFor({ timeout: 30_000 });
    }
  } catch (e) {
    await close();
    throw e;
  }
  return {
    caller,
    callee,
    securedAtMs: Date.now(),
    async hangUp() {
      await caller.page.getByRole("button", { name: `Hang up call with ${callee.name}` }).click().catch(() => {});
    },
    close,
  };
}

export function probeData(page: Page): Promise<ProbeData> {
  return page.evaluate(() => {
    const d = (window as unknown as { __voicesrvProbe: ProbeData }).__voicesrvProbe;
    return { ...d, captureOnsets: [...d.captureOnsets], playOnsets: [...d.playOnsets], playedEnvelope: [...d.playedEnvelope] };
  });
}

/** The app's own audio figures (jitter buffer, codec, AudioContext latencies), via the test hook. */
export function audioDetails(page: Page): Promise<Record<string, unknown> | null> {
  return page.evaluate(() => ((window as unknown as { __voicesrv: { details?: unknown } }).__voicesrv.details ?? null) as Record<string, unknown> | null);
}
