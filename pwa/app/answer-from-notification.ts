// "Answer" on a pushed ring (sw-push.ts): the app opens at /<group>?call=<id>&answer=1, or an
// open app gets a message from the service worker; the call is answered as soon as the server
// hands it over as `incoming` — that one call only, and only within the ring time.
import type { CallController } from "./call-controller.ts";

const VALID_FOR_MS = 60_000;

export class AnswerFromNotification {
  private wanted: { callId: string; until: number } | null = null;
  private calls: CallController | null = null;

  constructor() {
    const params = new URLSearchParams(location.search);
    const callId = params.get("call");
    if (callId && params.get("answer") === "1") this.want(callId);
    if (params.has("call")) {
      params.delete("call");
      params.delete("answer");
      const q = params.toString();
      history.replaceState(null, "", `${location.pathname}${q ? `?${q}` : ""}${location.hash}`);
    }
    navigator.serviceWorker?.addEventListener("message", (e) => {
      const d = e.data as { type?: string; callId?: unknown; answer?: unknown } | null;
      if (d?.type === "open-call" && typeof d.callId === "string" && d.answer === true) this.want(d.callId);
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
