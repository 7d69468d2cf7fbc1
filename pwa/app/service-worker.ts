// Registers the offline service worker. On a server with an untrusted (self-signed)
// certificate the browser refuses service workers; that is reported, not hidden, because it
// decides whether offline use and "Add to home screen" can work (UX.md screen 7).
import { Workbox } from "workbox-window";

export type WorkerState = "unsupported" | "pending" | "active" | "untrusted";

export interface WorkerEvents {
  state(s: WorkerState): void;
  updateReady(): void;
}

let workbox: Workbox | null = null;

export async function registerServiceWorker(events: WorkerEvents): Promise<void> {
  if (!("serviceWorker" in navigator)) return events.state(window.isSecureContext ? "unsupported" : "untrusted");
  events.state("pending");
  const wb = new Workbox("/sw.js", { scope: "/" });
  workbox = wb;
  wb.addEventListener("waiting", () => events.updateReady());
  try {
    await wb.register();
    events.state("active");
  } catch {
    // Chromium: "SecurityError: An SSL certificate error occurred when fetching the script."
    events.state("untrusted");
  }
}

/** Only on the user's tap: the new worker takes over and the page reloads into the new version. */
export function applyUpdate(): void {
  const wb = workbox;
  if (!wb) return location.reload();
  wb.addEventListener("controlling", () => location.reload());
  wb.messageSkipWaiting();
}

/** /ca.pem is offered by servers that run their own CA; only then is a download link shown. */
export async function caCertificateOffered(): Promise<boolean> {
  try {
    const r = await fetch("/ca.pem", { cache: "no-store" });
    return r.status === 200 && (await r.text()).includes("BEGIN CERTIFICATE");
  } catch {
    return false;
  }
}
