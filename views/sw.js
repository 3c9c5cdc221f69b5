// nixa's service worker (served at /sw.js, scope /): what makes nixa's pages an
// installable web app on a phone, and a bound phone's notifications (at the end),
// and nothing more. nixa is an identity provider, so the worker stays out of the
// way of everything that is not a public static asset: it stores only the files
// listed in PRECACHE (fetched without cookies at install), never a response it
// sees pass, and answers only
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
 * sessions, the device grant, the source callbacks, the admin API and console,
 * the phone's approval pages and its push subscription.
 */
const NEVER = ['/interaction', '/auth', '/token', '/account', '/session', '/device', '/federation', '/admin', '/console', '/p'];

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

// ── Web Push (issue 13 §3, CIBA) ─────────────────────────────────────────────
// A push says only that something waits for this bound phone ({type, id}: no
// service, no name, no binding message — src/push/policy.ts). The worker shows a
// notification in words of its own and stores nothing of the push: not in a
// cache, not in the notification's data. A click opens the phone's page (/p),
// which reads what waits from nixa, over the phone's own session.

/** The phone's page, which lists the requests waiting for it. */
const PHONE_PAGE = '/p';
const SUBSCRIPTION_PATH = '/p/push/subscription';

/** What each kind of push shows; a kind this worker does not know yet shows the first. */
const NOTIFICATIONS = {
  ciba: {
    title: 'Yêu cầu xác nhận đăng nhập (A sign-in needs your approval)',
    body: 'Mở nixa để xem và xác nhận (Open nixa to see and approve)',
    tag: 'nixa-ciba',
  },
};

/**
 * The notification for a push's payload (already parsed, or null): its title and
 * options. Pure, like decide(): the tests ask it. A newer request replaces the
 * older one (one tag) and rings again; it stays until the citizen acts on it.
 */
function notificationFor(payload) {
  const kind = payload && typeof payload.type === 'string' && Object.prototype.hasOwnProperty.call(NOTIFICATIONS, payload.type) ? payload.type : 'ciba';
  const n = NOTIFICATIONS[kind];
  return {
    title: n.title,
    options: { body: n.body, tag: n.tag, renotify: true, requireInteraction: true, lang: 'vi', icon: '/assets/icons/nixa-192.png' },
  };
}

self.addEventListener('push', (event) => {
  let payload = null;
  try {
    payload = event.data ? event.data.json() : null;
  } catch (err) {
    payload = null; // not JSON: still a push from nixa's key, so still shown (userVisibleOnly)
  }
  const n = notificationFor(payload);
  event.waitUntil(self.registration.showNotification(n.title, n.options));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = new URL(PHONE_PAGE, self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      // The phone's page if it is open (loaded again, so it shows the new request);
      // a window in the middle of something else is left as it is.
      const open = windows.find((w) => new URL(w.url).origin === self.location.origin && new URL(w.url).pathname === PHONE_PAGE);
      if (!open) return self.clients.openWindow(target);
      return open.focus().then((w) => (w && w.navigate ? w.navigate(target).catch(() => w) : w));
    }),
  );
});

// The browser renewed (or dropped) the subscription: give nixa the new one, as the
// phone's page would. Best effort: without it the phone still finds its requests
// when it opens nixa, and its page subscribes again.
self.addEventListener('pushsubscriptionchange', (event) => {
  event.waitUntil(resubscribe(event).catch(() => {}));
});

// nixa's answers say Referrer-Policy: no-referrer, under which the Fetch standard
// has a same-origin POST say "Origin: null"; nixa takes a subscription only with
// its own Origin.
const SAME_ORIGIN = { credentials: 'same-origin', referrerPolicy: 'same-origin' };

function resubscribe(event) {
  const fresh = event.newSubscription
    ? Promise.resolve(event.newSubscription)
    : serverKey(event.oldSubscription).then((key) => self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }));
  return fresh.then((sub) =>
    fetch(SUBSCRIPTION_PATH, {
      ...SAME_ORIGIN,
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(sub.toJSON()),
    }),
  );
}

/** The key the old subscription was made with, else nixa's (asked as the bound phone). */
function serverKey(old) {
  const kept = old && old.options && old.options.applicationServerKey;
  if (kept) return Promise.resolve(kept);
  return fetch('/p/push/key', { ...SAME_ORIGIN, headers: { Accept: 'application/json' } })
    .then((res) => (res.ok ? res.json() : Promise.reject(new Error(`key ${res.status}`))))
    .then((json) => json.publicKey);
}
