// "Answer" on a pushed ring (sw-push.ts): the worker records the intent in IndexedDB and opens
// /<group>?call=<id>, or messages the open app. The call is answered as soon as the server hands
// it over as `incoming` — that one call only, within a minute, and only on the worker's word
// (answer-intent.ts): the address alone never answers anything.
import { takeAnswerIntent } from "./answer-intent.ts";
import type { CallController } from "./call-controller.ts";

const VALID_FOR_MS = 60_000;

export class AnswerFromNotification {
  private wanted: { callId: string; until: number } | null = null;
  private calls: CallController | null = null;

  constructor() {
    const params = new URLSearchParams(location.search);
    if (params.has("call") || params.has("answer")) {
      params.delete("call");
      params.delete("answer");
      const q = params.toString();
      history.replaceState(null, "", `${location.pathname}${q ? `?${q}` : ""}${location.hash}`);
    }
    void takeAnswerIntent().then((callId) => callId && this.want(callId), () => {});
    navigator.serviceWorker?.addEventListener("message", (e) => {
      // Only the service worker can post here; a page cannot.
      const d = e.data as { type?: string; callId?: unknown; answer?: unknown } | null;
      if (d?.type === "open-call" && typeof d.callId === "string" && d.answer === true) {
        void takeAnswerIntent().catch(() => null);
        this.want(d.callId);
      }
    });
  }

  attach(calls: CallController): void {
    this.calls = calls;
    calls.subscribe(() => this.check());
    this.check();
  }

  private want(callId: string): void {
    this.wanted = { callId, until: Date.now() + VALID_FOR_MS };
    this.check();
  }

  private check(): void {
    const w = this.wanted;
    const calls = this.calls;
    if (!w || !calls) return;
    if (Date.now() > w.until) {
      this.wanted = null;
      return;
    }
    if (calls.view.phase === "incoming" && calls.view.callId === w.callId) {
      this.wanted = null;
      void calls.accept();
    }
  }
}
