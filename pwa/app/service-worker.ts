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

/** Per tab: set when this tab found no installed app, so it stays a first visit across navigations. */
const FIRST_VISIT_KEY = "voicesrv.first-visit";

/**
 * True when this tab started without any installed version of the app. Such a tab runs what it
 * just fetched; a newer worker that turns up during the visit (the server was rebuilt or
 * upgraded meanwhile) is news to nobody, so it is taken silently instead of asking the person
 * to reload an app they opened seconds ago.
 */
async function isFirstVisit(): Promise<boolean> {
  try {
    if (sessionStorage.getItem(FIRST_VISIT_KEY)) return true;
    if (navigator.serviceWorker.controller || (await navigator.serviceWorker.getRegistration("/"))) return false;
    sessionStorage.setItem(FIRST_VISIT_KEY, "1");
    return true;
  } catch {
    return false;
  }
}

export async function registerServiceWorker(events: WorkerEvents): Promise<void> {
  if (!("serviceWorker" in navigator)) return events.state(window.isSecureContext ? "unsupported" : "untrusted");
  events.state("pending");
  const firstVisit = await isFirstVisit();
  const wb = new Workbox("/sw.js", { scope: "/" });
  workbox = wb;
  // Without a reload the page keeps running the code it loaded, so taking over mid-call is safe.
  wb.addEventListener("waiting", () => (firstVisit ? wb.messageSkipWaiting() : events.updateReady()));
  try {
    await wb.register();
    events.state("active");
  } catch {
    // Chromium: "SecurityError: An SSL certificate error occurred when fetching the script."
    events.state("untrusted");
  }
}

/** Only on the user's tap: the new worker takes over and the page reloads into the new version. */
export async function applyUpdate(): Promise<void> {
  const wb = workbox;
  // Another tab may have taken the new worker already: then there is nothing left to wait for.
  if (!wb || !(await navigator.serviceWorker.getRegistration("/"))?.waiting) return location.reload();
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
