// Dorpskracht's service worker: the app shell comes from this cache, so the app starts with no
// network at all. `cargo xtask` fills in VERSION and PRECACHE after each release build; a new
// build is a new cache, and the old one is deleted once the new worker takes over.
//
// - precache on install: index.html, the hashed .js and .wasm, CSS, manifest, icons;
// - navigations: network first (a new release shows up at once), the cached index.html when
//   the network is down;
// - other app files: cache first (their names carry a content hash);
// - /api and /sync are never cached here: the app keeps its own data in IndexedDB/localStorage.

const VERSION = /*VERSION*/"dev";
const PRECACHE = /*PRECACHE*/[];
const CACHE = `dorpskracht-shell-${VERSION}`;

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
      .then(() => self.clients.claim()),
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
    return;
  }

  event.respondWith(
    caches.match(request, { cacheName: CACHE }).then((cached) => cached || fetch(request)),
  );
});
