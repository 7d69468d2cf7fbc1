// "Ring this phone when voicesrv is closed" (issue #9): whether this device can be rung by Web
// Push, and the subscription that makes it so. Permission is only ever asked from a tap.
//
// Decisions (docs/PUSH.md):
// - The subscription is re-sent on every welcome, so the server always has the current endpoint
//   (push services rotate them) and one the server dropped after a 404/410 comes back by itself.
// - A subscription made for another VAPID key (the server's data directory was reset) is
//   replaced: pushes signed with the new key would be refused by the push service.
// - Turning ringing on is remembered on this device (setting `ringWhenClosed`): a subscription
//   the browser dropped is made again on the next welcome — without a prompt, since the
//   permission is already granted — so ringing keeps working for months untouched.
// - The permission prompt is requested first thing in the tap's handler, before any await: iOS
//   only shows it while the tap still counts as the user's gesture.
import type { Connection } from "./connection.ts";
import { settings } from "./settings.ts";

export type RingingState =
  | { kind: "on" }
  | { kind: "off" }
  /** Cannot be turned on here; `reason` says why in one sentence for Settings. */
  | { kind: "unavailable"; reason: string };

function isIos(): boolean {
  return /iPhone|iPad|iPod/.test(navigator.userAgent) || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
}

function isStandalone(): boolean {
  return matchMedia("(display-mode: standalone)").matches || (navigator as { standalone?: boolean }).standalone === true;
}

async function registration(): Promise<ServiceWorkerRegistration | null> {
  if (!("serviceWorker" in navigator)) return null;
  return (await navigator.serviceWorker.getRegistration("/")) ?? null;
}

/** What can be known at once, inside the tap (no await). */
function immediateObstacle(serverKey: string | null): string | null {
  if (!serverKey) return "This server can't ring closed apps — ask the person who runs it.";
  if (isIos() && !isStandalone()) return "On iPhone and iPad, add voicesrv to the Home Screen first (Share → Add to Home Screen), then open it from there.";
  if (!("PushManager" in window) || !("Notification" in window) || !("serviceWorker" in navigator)) return "This browser can't ring when voicesrv is closed.";
  return null;
}

/** Why this device cannot be rung, or null when it can (given a server that pushes). */
async function obstacle(serverKey: string | null): Promise<string | null> {
  const now = immediateObstacle(serverKey);
  if (now) return now;
  if (!(await registration())) return "Ringing needs the installed app, which this browser refused — usually because the server's certificate isn't trusted yet.";
  if (Notification.permission === "denied") return "Notifications are blocked for this site — allow them in the browser's site settings.";
  return null;
}

export async function ringingState(serverKey: string | null): Promise<RingingState> {
  const why = await obstacle(serverKey);
  if (why) return { kind: "unavailable", reason: why };
  const sub = await (await registration())!.pushManager.getSubscription();
  return sub && Notification.permission === "granted" ? { kind: "on" } : { kind: "off" };
}

function sameKey(sub: PushSubscription, serverKey: string): boolean {
  const k = sub.options.applicationServerKey;
  if (!k) return false;
  const b64 = btoa(String.fromCharCode(...new Uint8Array(k))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return b64 === serverKey;
}

function send(conn: Connection, sub: PushSubscription): boolean {
  const j = sub.toJSON();
  if (!j.endpoint || !j.keys?.p256dh || !j.keys?.auth) return false;
  return conn.send({ t: "push-subscribe", sub: { endpoint: j.endpoint, keys: { p256dh: j.keys.p256dh, auth: j.keys.auth } } });
}

async function subscription(serverKey: string): Promise<PushSubscription> {
  const reg = (await navigator.serviceWorker.ready) as ServiceWorkerRegistration;
  const existing = await reg.pushManager.getSubscription();
  if (existing && sameKey(existing, serverKey)) return existing;
  await existing?.unsubscribe();
  return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: serverKey });
}

/** From the person's tap: asks for notification permission, subscribes, tells the server. */
export async function enableRinging(conn: Connection): Promise<RingingState> {
  const early = immediateObstacle(conn.pushKey);
  if (early) return { kind: "unavailable", reason: early };
  const permission = Notification.requestPermission();
  const why = await obstacle(conn.pushKey);
  if (why) return { kind: "unavailable", reason: why };
  if ((await permission) !== "granted") {
    return { kind: "unavailable", reason: "Notifications were not allowed, so the phone can't ring while voicesrv is closed." };
  }
  void settings.update({ ringWhenClosed: true });
  try {
    if (!send(conn, await subscription(conn.pushKey!))) return { kind: "unavailable", reason: "You're offline — try again when connected." };
  } catch {
    return { kind: "unavailable", reason: "This browser's push service refused the subscription — try again later." };
  }
  return { kind: "on" };
}

/** On every welcome: keep the server's copy current (making one again if it was turned on); never prompts. */
export async function refreshRinging(conn: Connection): Promise<void> {
  if (!conn.pushKey || (await obstacle(conn.pushKey)) || Notification.permission !== "granted") return;
  const reg = await registration();
  if (!(await reg?.pushManager.getSubscription()) && !settings.value.ringWhenClosed) return;
  try {
    send(conn, await subscription(conn.pushKey));
  } catch {
    // Not fatal: the next start tries again, and Settings shows the state.
  }
}

export async function disableRinging(conn: Connection | null): Promise<void> {
  void settings.update({ ringWhenClosed: false });
  conn?.send({ t: "push-unsubscribe" });
  await (await (await registration())?.pushManager.getSubscription())?.unsubscribe();
}

/**
 * A new identity: the browser's subscription is dropped so every server's copy for the old
 * member fails with 410 and is deleted; the new member subscribes afresh on its welcome (the
 * setting stays on).
 */
export async function dropSubscriptionForNewIdentity(conn: Connection | null): Promise<void> {
  conn?.send({ t: "push-unsubscribe" });
  await (await (await registration())?.pushManager.getSubscription())?.unsubscribe();
}
