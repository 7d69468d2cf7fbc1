/**
 * Keeps the screen on during a call (a locked phone may suspend the page and its audio).
 *
 * Uses the Screen Wake Lock API (Chrome/Android 84+, Safari 16.4+ — in iOS home-screen apps only
 * from 18.4 — Firefox 126+). Where it is missing we report `supported: false` instead of the
 * muted-looping-video trick: that hack costs battery, needs a bundled video, and fights with the
 * call's own audio session on iOS. The UI shows the state so the user knows to keep the screen on.
 *
 * The browser releases the lock whenever the page is hidden; we re-acquire it when the page
 * becomes visible again, until release() (hang-up).
 */
export interface WakeLockState {
  supported: boolean;
  active: boolean;
}

type Listener = (state: WakeLockState) => void;

interface Sentinel extends EventTarget {
  released: boolean;
  release(): Promise<void>;
}

export class CallWakeLock {
  private sentinel: Sentinel | null = null;
  private wanted = false;
  private readonly listeners = new Set<Listener>();
  private readonly onVisibility = () => {
    if (this.wanted && document.visibilityState === "visible" && !this.sentinel) void this.acquire();
  };

  get state(): WakeLockState {
    return { supported: CallWakeLock.supported(), active: this.sentinel !== null && !this.sentinel.released };
  }

  static supported(): boolean {
    return typeof navigator !== "undefined" && "wakeLock" in navigator;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  /** Call from the user's tap (Accept / Call): some browsers require a user activation. */
  async request(): Promise<WakeLockState> {
    if (!this.wanted) {
      this.wanted = true;
      document.addEventListener("visibilitychange", this.onVisibility);
    }
    await this.acquire();
    return this.state;
  }

  /** On hang-up. */
  async release(): Promise<void> {
    this.wanted = false;
    document.removeEventListener("visibilitychange", this.onVisibility);
    const s = this.sentinel;
    this.sentinel = null;
    if (s && !s.released) await s.release().catch(() => {});
    this.emit();
  }

  private async acquire(): Promise<void> {
    if (!CallWakeLock.supported() || this.sentinel) return;
    try {
      const s = (await (navigator as { wakeLock: { request(type: "screen"): Promise<Sentinel> } }).wakeLock.request("screen")) as Sentinel;
      if (!this.wanted) {
        await s.release().catch(() => {});
        return;
      }
      this.sentinel = s;
      s.addEventListener("release", () => {
        if (this.sentinel === s) this.sentinel = null;
        this.emit();
      });
    } catch {
      // Denied (hidden page, battery saver, missing user activation): stays inactive, retried on visible.
    }
    this.emit();
  }

  private emit(): void {
    const state = this.state;
    for (const l of this.listeners) l(state);
  }
}
