// The service worker. The server prepends `const BUILD = {version, shell}`: the version is a hash of
// every file of the app, so any change to the app is a new worker, and `shell` lists those files.
// A new worker installs beside the old one and waits; the page (js/app/update.js) tells it to take
// over only when the outbox is empty, then reloads. The API is never cached: data lives in IndexedDB.
/* global BUILD */
const CACHE = `fieldcards-${BUILD.version}`;
const NEVER_CACHED = ["/api/", "/healthz", "/readyz", "/sw.js"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(BUILD.shell)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const old = (await caches.keys()).filter((key) => key.startsWith("fieldcards-") && key !== CACHE);
    await Promise.all(old.map((key) => caches.delete(key)));
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data?.type === "activate-now") self.skipWaiting();
  if (event.data?.type === "version") event.source?.postMessage({ type: "version", version: BUILD.version });
});

// Pages ("/", "/signin.html?next=…") come from the cache by path; everything else of the app too.
function cacheKey(url, request) {
  if (request.mode === "navigate" && (url.pathname === "/" || url.pathname === "")) return "/index.html";
  return url.pathname;
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (NEVER_CACHED.some((prefix) => url.pathname.startsWith(prefix))) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const hit = await cache.match(cacheKey(url, event.request), { ignoreSearch: true });
    if (hit) return hit;
    try {
      return await fetch(event.request);
    } catch (error) {
      if (event.request.mode === "navigate") return (await cache.match("/index.html")) || Response.error();
      throw error;
    }
  })());
});
