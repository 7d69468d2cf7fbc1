/// <reference lib="webworker" />
// The service worker: the whole app (every built file, revisioned by content hash at build
// time) is precached, so it opens offline and from the home screen; any /<group> navigation
// gets the cached app shell. WebSocket, API and certificate URLs always go to the network.
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from "workbox-precaching";
import { NavigationRoute, registerRoute } from "workbox-routing";
import { installPushHandlers } from "./sw-push.ts";

declare const self: ServiceWorkerGlobalScope;
declare const __PRECACHE_MANIFEST__: { url: string; revision: string }[];

precacheAndRoute(__PRECACHE_MANIFEST__);
cleanupOutdatedCaches();
registerRoute(
  new NavigationRoute(createHandlerBoundToURL("/index.html"), {
    denylist: [/^\/ws\//, /^\/api\//, /^\/ca\.pem$/],
  }),
);

// A new version waits until the user taps "Update available — reload": taking over in the
// middle of a call would reload the page and drop it.
self.addEventListener("message", (event) => {
  if ((event.data as { type?: string } | null)?.type === "SKIP_WAITING") void self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

// Pushed rings and missed calls, and taps on any call notification (sw-push.ts).
installPushHandlers();
