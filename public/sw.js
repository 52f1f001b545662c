// Dorpskracht's service worker: the app shell comes from this cache, so the app starts with no
// network at all. `cargo xtask` fills in VERSION and PRECACHE after each release build; a new
// build is a new cache, and the old one is deleted once the new worker takes over.
//
// - precache on install: index.html, the main .js and .wasm, the split loader, CSS, manifest,
//   icons: everything a first visit needs (PRECACHE);
// - the split wasm modules (LAZY: the screens that load when first opened, app/src/lazy.rs,
//   and `en.txt`, the English texts, fetched when a resident chooses English) are not precached, so a first visit does not download them. Each is cached when the app
//   first fetches it, and on the app's next start (a navigation this worker answers, which
//   never happens on a first visit) the worker fetches the ones still missing in the
//   background: from the second start on, every screen works offline;
// - navigations: network first (a new release shows up at once), the cached index.html when
//   the network is down;
// - other app files: cache first (their names carry a content hash, or sit in a folder that
//   does);
// - /api and /sync are never cached here: the app keeps its own data in IndexedDB/localStorage.

const VERSION = /*VERSION*/"dev";
const PRECACHE = /*PRECACHE*/[];
const LAZY = /*LAZY*/[];
const CACHE = `dorpskracht-shell-${VERSION}`;

// Caches the split modules not cached yet. `onlyIfCached`: take only what the browser already
// fetched (its HTTP cache, no network: a module the page loaded before this worker controlled
// it); otherwise fetch from the network, and one that fails is tried again on a later start.
async function cacheLazyModules(onlyIfCached) {
  const cache = await caches.open(CACHE);
  await Promise.all(
    LAZY.map(async (url) => {
      if (await cache.match(url)) return;
      try {
        const response = await fetch(
          url,
          onlyIfCached ? { cache: "only-if-cached", mode: "same-origin" } : { priority: "low" },
        );
        if (response.ok) await cache.put(url, response);
      } catch {
        // Not fetched yet, or offline: a later start.
      }
    }),
  );
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((key) => key.startsWith("dorpskracht-shell-") && key !== CACHE)
            .map((key) => caches.delete(key)),
        ),
      )
      .then(() => self.clients.claim())
      // What the page fetched before this worker controlled it (a screen opened during the
      // first visit) is kept from the browser's cache, with nothing downloaded again.
      .then(() => cacheLazyModules(true)),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname === "/sync") return;

  if (request.mode === "navigate") {
    event.respondWith(
      fetch(request).catch(() =>
        caches.match("/index.html", { cacheName: CACHE }).then((cached) => cached || Response.error()),
      ),
    );
    // This worker answers the navigation, so the app was started before: now (not on the
    // first visit) the rest of the app comes in the background.
    event.waitUntil(cacheLazyModules(false));
    return;
  }

  event.respondWith(
    caches.match(request, { cacheName: CACHE }).then(
      (cached) =>
        cached ||
        fetch(request).then(async (response) => {
          if (response.ok && LAZY.includes(url.pathname)) {
            const cache = await caches.open(CACHE);
            await cache.put(url.pathname, response.clone());
          }
          return response;
        }),
    ),
  );
});
