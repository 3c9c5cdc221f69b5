// nixa's service worker (served at /sw.js, scope /): what makes nixa's pages an
// installable web app on a phone, and nothing more. nixa is an identity provider,
// so the worker stays out of the way of everything that is not a public static
// asset: it stores only the files listed in PRECACHE (fetched without cookies at
// install), never a response it sees pass, and answers only
//   - those files, from the network and from its copy when the network fails;
//   - a navigation to one of nixa's public pages (PUBLIC_PAGES), from the network,
//     with the offline page when the network fails.
// Everything else — the sign-in journey, the protocol endpoints, the citizen's
// account, the console, any other method than GET, any other origin — it does not
// touch at all (no respondWith): the browser fetches it as if there were no worker.
//
// decide() below is the whole policy, a pure function: test/app/web-app.test.ts
// runs this file as served and asks it.
'use strict';

// Replaced when served (src/app/web-app.ts) by a digest of the precached files, so
// that a change to any of them changes this file and the browser installs it anew.
const CACHE = 'nixa-static-{{version}}';
const OFFLINE_PAGE = '/offline';

/** The only responses ever stored: public files, the same for everyone. */
const PRECACHE = [OFFLINE_PAGE, '/assets/nixa.css', '/assets/web-app.js', '/favicon.svg', '/manifest.webmanifest'];

/** nixa's public pages: a navigation to one of them, offline, shows the offline page. */
const PUBLIC_PAGES = ['/', '/help', '/privacy', '/accessibility', '/terms', OFFLINE_PAGE];

/**
 * Never answered by the worker, whatever the lists above say (a later edit of them
 * cannot reach these): the sign-in journey, the protocol, the citizen's account and
 * sessions, the device grant, the source callbacks, the admin API and console.
 */
const NEVER = ['/interaction', '/auth', '/token', '/account', '/session', '/device', '/federation', '/admin', '/console'];

const under = (path, prefix) => path === prefix || path.startsWith(prefix + '/');

/**
 * What the worker does with a request: 'pass' (nothing: the browser goes to the
 * network as without a worker), 'asset' (network, else the precached copy) or
 * 'page' (network, else the offline page). `request` needs only method, url and
 * mode; `origin` is the worker's own.
 */
function decide(request, origin) {
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== origin) return 'pass';
  if (NEVER.some((prefix) => under(url.pathname, prefix))) return 'pass';
  // A query may carry a code or a state: only the bare paths are answered.
  if (url.search) return 'pass';
  if (request.mode === 'navigate') return PUBLIC_PAGES.includes(url.pathname) ? 'page' : 'pass';
  return PRECACHE.includes(url.pathname) ? 'asset' : 'pass';
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      // Straight from nixa (not the HTTP cache), without cookies: what is stored cannot depend on who is signed in.
      .then((cache) => cache.addAll(PRECACHE.map((path) => new Request(path, { cache: 'reload', credentials: 'omit' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  // Earlier versions' copies go; the worker then serves the pages already open.
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith('nixa-') && name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const action = decide(event.request, self.location.origin);
  if (action === 'asset') {
    event.respondWith(fetch(event.request).catch(() => fromCache(new URL(event.request.url).pathname)));
  } else if (action === 'page') {
    event.respondWith(fetch(event.request).catch(() => fromCache(OFFLINE_PAGE)));
  }
  // 'pass': no respondWith.
});

/** The stored copy of a precached path, or a network error as the browser would have had. */
function fromCache(path) {
  return caches.open(CACHE).then((cache) => cache.match(path)).then((response) => response || Response.error());
}

// Web Push (issue 13 §3, CIBA): a later change adds here
//   self.addEventListener('push', …) — show the notification of a pending request
//   self.addEventListener('notificationclick', …) — open the approval page
// Neither may store what the push carries: the approval page is fetched from nixa.
