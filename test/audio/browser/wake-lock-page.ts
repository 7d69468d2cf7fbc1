// Browser side of test/browser/audio-wake-lock.test.ts.
import { CallWakeLock, type WakeLockState } from "../../../pwa/audio/wake-lock.ts";

const lock = new CallWakeLock();
const seen: WakeLockState[] = [];
lock.subscribe((s) => seen.push(s));

Object.assign(globalThis, {
  wakeLockTest: {
    request: () => lock.request(),
    release: async () => {
      await lock.release();
      return lock.state;
    },
    /** What the browser does when the page is hidden: it releases the sentinel itself. */
    simulateSystemRelease: async () => {
      const sentinel = (lock as unknown as { sentinel: { release(): Promise<void> } | null }).sentinel;
      await sentinel?.release();
      return lock.state;
    },
    becomeVisible: async () => {
      document.dispatchEvent(new Event("visibilitychange"));
      await new Promise((r) => setTimeout(r, 100));
      return lock.state;
    },
    seen: () => seen,
  },
  wakeLockReady: true,
});
