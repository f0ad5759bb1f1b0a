// Generated into the build as sw.js by plugins/service-worker.ts; PRECACHE and VERSION are filled in there.
// Precaches the app shell, its assets and onnxruntime-web's files, so the app works offline once loaded.
// Models are not here: the page keeps them in Cache Storage itself ('qaq-models-v1').
const PRECACHE = __PRECACHE__;
const VERSION = __VERSION__;
const cacheName = `qaq-app-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(cacheName)
      .then((cache) => cache.addAll(PRECACHE.map((path) => new URL(path, self.registration.scope).href)))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith('qaq-app-') && name !== cacheName).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !url.href.startsWith(self.registration.scope)) return;
  if (request.mode === 'navigate') {
    // Pages: the network first (a new build shows up), the cached page when offline. The query string is ignored.
    event.respondWith(
      fetch(request).catch(() =>
        caches.open(cacheName).then((cache) => cache.match(request, { ignoreSearch: true })).then((response) => response ?? Response.error()),
      ),
    );
    return;
  }
  // Hashed assets and the runtime files: the cache first.
  event.respondWith(
    caches
      .open(cacheName)
      .then((cache) => cache.match(request, { ignoreSearch: true }))
      .then((response) => response ?? fetch(request)),
  );
});
