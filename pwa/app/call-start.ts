// The moment a call is secured, without a late first word (issue #10).
//
// Measured in the latency benchmark (bench/latency, two headless Chromium processes): when the
// key confirmation completed, the secured screen's rendering — the safety-code pictures (each
// SVG <img> built a document of its own on the main thread: 20–110 ms apiece, the first one the
// slowest, and painting them showed up in an 80–130 ms compositor commit), the layout of the
// new text — held each page's main thread for about 300 ms. Sending started at that same
// moment, so the capture worklet's first frames queued behind that work and went out 100–300 ms
// late, and the receiving page, busy with its own secured screen, took them in as one bunch: the
// first word of every call was heard 270–450 ms after it was spoken, and the bunches taught the
// jitter buffer a larger delay for the next second or two.
//
// So the secured screen is made cheap, and comes first:
// - The pictures are inline SVG from shape data (sas-art.ts), not SVG images: no document per
//   picture. The data (one file for all 64) is fetched when a call starts ringing and awaited,
//   bounded by PRELOAD_CAP_MS, before the secured screen shows, so pictures and words appear in
//   one frame.
// - The audio graph is built while the keys are exchanged (both sides, sending off).
// - Where the link runs in the page, sending starts after the secured screen has been painted
//   (a frame later), bounded by PAINT_CAP_MS. A hidden page (a call answered from the lock
//   screen, the app in the background) waits for neither: it paints nothing, and its timers may
//   run only once a second. Since frames move in the link worker (pwa/link/, 2026-12-02) the
//   page's rendering cannot hold one up, so there sending starts with the confirmed keys and
//   does not wait for the screen: people say "hello?" as soon as the call connects, not once
//   they have seen "secured".
import { loadSasArt } from "./sas-art.ts";

const PRELOAD_CAP_MS = 400;
const PAINT_CAP_MS = 250;

function capped(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    void p.then(
      () => (clearTimeout(t), resolve()),
      () => (clearTimeout(t), resolve()),
    );
  });
}

/** Starts fetching the safety-code pictures' data (when a call starts ringing); never rejects. */
export function prefetchSasPictures(): void {
  if (typeof fetch !== "undefined") void loadSasArt();
}

const hidden = () => typeof document !== "undefined" && document.visibilityState === "hidden";

/** Resolves once the safety-code pictures can be drawn (or PRELOAD_CAP_MS passed; at once when hidden). */
export function preloadSasPictures(): Promise<void> {
  if (typeof fetch === "undefined" || hidden()) return Promise.resolve();
  return capped(loadSasArt(), PRELOAD_CAP_MS);
}

/** Resolves after the next frame has been painted, or after PAINT_CAP_MS; at once when hidden (nothing is painted). */
export function afterPaint(): Promise<void> {
  if (typeof requestAnimationFrame === "undefined" || hidden()) return Promise.resolve();
  // A task queued from inside the frame callback runs after that frame's paint.
  return capped(new Promise<void>((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))), PAINT_CAP_MS);
}
