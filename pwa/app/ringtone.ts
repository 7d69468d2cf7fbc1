// Incoming-call alert: a soft two-tone ring generated with WebAudio (no audio file to ship),
// vibration where the platform has it, and a notification when the page is in the background.
export interface AlertOptions {
  ringtone: boolean;
  vibration: boolean;
  caller: string;
}

const RING_PERIOD_MS = 3000;

/**
 * iOS (and Chrome's autoplay policy) let an AudioContext make sound only if it was started in
 * a user gesture. A call arrives without one, so the alert context is created and resumed at
 * the first tap or key press on the page and kept (suspended between rings) for later calls.
 */
let alertContext: AudioContext | null = null;
function unlockAlertAudio(): void {
  try {
    alertContext ??= new AudioContext();
    void alertContext.resume().then(() => alertContext?.suspend()).catch(() => {});
  } catch {
    // no WebAudio: the screen, vibration and notification still alert
  }
}
if (typeof window !== "undefined") {
  for (const type of ["pointerdown", "keydown"]) window.addEventListener(type, unlockAlertAudio, { once: true, capture: true });
}

export class IncomingAlert {
  private ctx: AudioContext | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private notification: Notification | null = null;

  start(opts: AlertOptions): void {
    this.stop();
    if (opts.ringtone) this.ring();
    if (opts.vibration && "vibrate" in navigator) navigator.vibrate([400, 200, 400]);
    this.timer = setInterval(() => {
      if (opts.ringtone) this.ring();
      if (opts.vibration && "vibrate" in navigator) navigator.vibrate([400, 200, 400]);
    }, RING_PERIOD_MS);
    if (document.hidden) void this.notify(opts.caller);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if ("vibrate" in navigator) navigator.vibrate(0);
    void this.ctx?.suspend().catch(() => {});
    this.ctx = null;
    this.notification?.close();
    this.notification = null;
  }

  private ring(): void {
    try {
      alertContext ??= new AudioContext();
      this.ctx = alertContext;
      const ctx = this.ctx;
      // Without a user gesture on this page the context stays suspended and the ring is
      // silent; the screen, vibration and notification still alert the user.
      void ctx.resume().catch(() => {});
      const t0 = ctx.currentTime + 0.02;
      const gain = ctx.createGain();
      gain.connect(ctx.destination);
      gain.gain.setValueAtTime(0, t0);
      for (let burst = 0; burst < 2; burst++) {
        const s = t0 + burst * 0.5;
        gain.gain.setValueAtTime(0, s);
        gain.gain.linearRampToValueAtTime(0.12, s + 0.03);
        gain.gain.setValueAtTime(0.12, s + 0.37);
        gain.gain.linearRampToValueAtTime(0, s + 0.4);
      }
      for (const f of [440, 480]) {
        const osc = ctx.createOscillator();
        osc.frequency.value = f;
        osc.connect(gain);
        osc.start(t0);
        osc.stop(t0 + 1);
      }
    } catch {
      // no audio output available
    }
  }

  private async notify(caller: string): Promise<void> {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    const body = `${caller} is calling you`;
    try {
      // Android only shows notifications made through the service worker.
      const reg = await navigator.serviceWorker?.getRegistration();
      if (reg) {
        await reg.showNotification("Incoming call", { body, tag: "incoming-call", requireInteraction: true, icon: "/icons/icon-192.png" });
        return;
      }
      this.notification = new Notification("Incoming call", { body, tag: "incoming-call", icon: "/icons/icon-192.png" });
      this.notification.onclick = () => window.focus();
    } catch {
      // notifications are a nicety; the full-screen alert is the real one
    }
  }
}

/**
 * Removes the incoming-call notifications — the app's own and a pushed ring (sw-push.ts) —
 * once the call is answered or gone; missed-call notifications stay.
 */
export async function clearCallNotifications(): Promise<void> {
  try {
    const reg = await navigator.serviceWorker?.getRegistration();
    for (const n of (await reg?.getNotifications()) ?? []) {
      if (n.tag === "incoming-call" || (n.data as { kind?: string } | null)?.kind === "ring") n.close();
    }
  } catch {
    // nothing to clear
  }
}
