/// <reference lib="webworker" />
// The service worker's half of ringing a closed app (issue #9): it shows the pushed ring or
// missed call, and turns a tap on it into the app's incoming-call screen, an answer or a decline.
//
// Decisions (docs/PUSH.md):
// - Every push shows a notification (iOS ends subscriptions that receive silent pushes): a ring
//   that arrives after its expiry shows as missed; an unreadable payload shows a plain line.
// - One tag per call ("call-<callId>"), so the missed-call notification replaces the ring.
// - Tapping opens /<group>?call=<callId>: the app connects, the server hands it the waiting
//   call as `incoming`, and the incoming-call screen shows. "Answer" first records the intent
//   in IndexedDB (answer-intent.ts), which the app honours once that call arrives — a link
//   cannot. "Decline" signs the refusal with the device key and posts it; no window opens.
// - The notification is shown before anything is written to IndexedDB, so a blocked database
//   (an old tab during an upgrade) can never leave a push without a notification.
// - A ring counts as current for 30 s past its expiry: the phone's clock may run ahead of the
//   server's, and a late ring is replaced by the missed-call push anyway.
import { parsePushPayload, type PushPayload } from "../protocol/push-payload.ts";
import { recordAnswerIntent } from "./app/answer-intent.ts";
import { DeviceIdentity } from "./app/device-identity.ts";
import { recordMissedCall } from "./app/missed-calls.ts";
import { notificationTarget } from "./notification-target.ts";

declare const self: ServiceWorkerGlobalScope;

const ICON = "/icons/icon-192.png";
const CLOCK_SKEW_MS = 30_000;

function readPayload(data: PushMessageData | null): PushPayload | null {
  try {
    return parsePushPayload(data?.json());
  } catch {
    return null;
  }
}

async function onPush(data: PushMessageData | null): Promise<void> {
  const p = readPayload(data);
  if (!p) return self.registration.showNotification("voicesrv", { body: "Open voicesrv to see what happened.", icon: ICON });
  const tag = `call-${p.callId}`;
  if (p.kind === "ring" && Date.now() < p.exp + CLOCK_SKEW_MS) {
    return self.registration.showNotification(`Incoming call from ${p.name}`, {
      tag,
      body: `voicesrv · ${p.group} — tap to answer`,
      icon: ICON,
      data: p,
      requireInteraction: true,
      renotify: true,
      vibrate: [400, 200, 400, 200, 400],
      actions: [
        { action: "answer", title: "Answer" },
        { action: "decline", title: "Decline" },
      ],
    } as NotificationOptions);
  }
  await self.registration.showNotification(`Missed call from ${p.name}`, {
    tag,
    body: `voicesrv · ${p.group}`,
    icon: ICON,
    data: { ...p, kind: "missed" },
    renotify: false,
  } as NotificationOptions);
  await recordMissedCall({ callId: p.callId, group: p.group, name: p.name, from: p.from, at: Date.now() }).catch(() => {});
}

async function decline(p: PushPayload): Promise<void> {
  const me = await DeviceIdentity.existing();
  if (!me) return;
  await fetch("/api/push/decline", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(await me.decline(p.callId, p.group)),
  }).catch(() => {});
}

async function open(p: PushPayload | null, answer: boolean): Promise<void> {
  if (p && answer && p.kind === "ring") await recordAnswerIntent(p.callId).catch(() => {});
  const tabs = (await self.clients.matchAll({ type: "window", includeUncontrolled: true })) as WindowClient[];
  if (!p) {
    if (tabs[0]) await tabs[0].focus();
    else await self.clients.openWindow("/");
    return;
  }
  const path = `/${p.group}`;
  const tab = tabs.find((t) => new URL(t.url).pathname === path);
  if (tab) {
    // The open app is already connected: it learns which call the tap was for.
    tab.postMessage({ type: "open-call", callId: p.callId, answer: answer && p.kind === "ring" });
    await tab.focus();
    return;
  }
  await self.clients.openWindow(notificationTarget(p));
}

export function installPushHandlers(): void {
  self.addEventListener("push", (event) => event.waitUntil(onPush(event.data)));

  // The browser replaced the subscription (rotation, expiry): subscribe again with the same
  // options; the app sends the new one to the server on its next welcome.
  self.addEventListener("pushsubscriptionchange", (event) => {
    const e = event as Event & { oldSubscription?: PushSubscription | null; waitUntil(p: Promise<unknown>): void };
    const options = e.oldSubscription?.options;
    if (!options?.applicationServerKey) return;
    e.waitUntil(self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: options.applicationServerKey }).catch(() => undefined));
  });

  self.addEventListener("notificationclick", (event) => {
    const n = event.notification;
    n.close();
    const p = parsePushPayload(n.data);
    if (event.action === "decline" && p?.kind === "ring") return event.waitUntil(decline(p));
    event.waitUntil(open(p, event.action === "answer"));
  });
}
