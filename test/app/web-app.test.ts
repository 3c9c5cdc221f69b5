// nixa as an installable web app, over HTTP: the manifest is valid and complete,
// its icons are served with the types and the sizes it claims (read from each
// PNG's header), every citizen page links it and loads the registration script
// under a CSP that still allows only nixa itself, and the service worker is served
// revalidated. The worker itself, as served, runs here in a sandbox with a fake
// Cache API and network: it never answers (so never stores nor serves) the sign-in
// journey, the protocol, the account, the console or the phone's pages, stores
// only the public files it precaches, and shows the offline page for nixa's
// public pages only; a Web Push shows a notification in the worker's own words,
// keeping nothing of it, whose click opens the phone's page.
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';

import type { Nixa } from '../../src/app/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestNixa } from '../support/nixa.js';

let tdb: TestDatabase;
let nixa: Nixa;

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db);
});

afterAll(async () => {
  await nixa?.close();
  await tdb?.drop();
});

const get = (path: string, init: RequestInit = {}) => fetch(`${nixa.url}${path}`, { redirect: 'manual', ...init });

/** Width and height from a PNG's IHDR chunk, which the format puts first. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(bytes.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

interface ManifestIcon {
  src: string;
  sizes: string;
  type: string;
  purpose?: string;
}

const css = readFileSync(new URL('../../views/nixa.css', import.meta.url), 'utf8');

describe('the web app manifest', () => {
  it('is served as application/manifest+json: Vietnamese first, standalone, starting at the citizen’s own /account, in nixa’s colours', async () => {
    const res = await get('/manifest.webmanifest');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/manifest+json; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    const manifest = JSON.parse(await res.text());
    expect(manifest).toMatchObject({
      name: 'nixa — Định danh và xác thực',
      short_name: 'nixa',
      lang: 'vi',
      start_url: '/account',
      scope: '/',
      display: 'standalone',
    });
    // The colours of the pages: the header's accent, the body's background.
    expect(css).toContain(`--accent: ${manifest.theme_color};`);
    expect(css).toMatch(new RegExp(`^body \\{[^}]*background: ${manifest.background_color};`, 'm'));
    // What a launcher needs: an SVG of any size, PNGs of 192 and 512 px, maskable ones.
    const icons = manifest.icons as ManifestIcon[];
    expect(icons.filter((i) => i.purpose === 'any').map((i) => i.sizes)).toEqual(['any', '192x192', '512x512']);
    expect(icons.filter((i) => i.purpose === 'maskable').map((i) => i.sizes)).toEqual(['192x192', '512x512']);
  });

  it('names icons that nixa serves with the type and, for each PNG, the size the manifest says', async () => {
    const { icons } = (await (await get('/manifest.webmanifest')).json()) as { icons: ManifestIcon[] };
    for (const icon of icons) {
      const res = await get(icon.src);
      expect([icon.src, res.status, res.headers.get('content-type')]).toEqual([icon.src, 200, icon.type]);
      expect(res.headers.get('cache-control')).toBe('public, max-age=86400');
      const bytes = Buffer.from(await res.arrayBuffer());
      if (icon.type === 'image/svg+xml') {
        expect(bytes.toString('utf8')).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 32 32">/);
        continue;
      }
      const { width, height } = pngSize(bytes);
      expect([icon.src, `${width}x${height}`]).toEqual([icon.src, icon.sizes]);
    }
  });

  it('answers no icon it does not have', async () => {
    expect((await get('/assets/icons/nixa-1024.png')).status).toBe(404);
  });
});

describe('the citizen’s pages', () => {
  it.each(['/', '/account', '/help', '/offline'])('%s links the manifest, the theme colour and the Apple touch icon, and registers the worker from nixa’s own script', async (path) => {
    const res = await get(path);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).toContain('<link rel="manifest" href="/manifest.webmanifest">');
    expect(html).toContain('<meta name="theme-color" content="#a1121a">');
    expect(html).toContain('<link rel="apple-touch-icon" href="/assets/icons/apple-touch-icon.png">');
    expect(html).toContain('<script src="/assets/web-app.js" defer></script>');
    expect(html).not.toMatch(/<script>|serviceWorker/); // no inline script
    // Still nixa itself only: a manifest and a worker from this origin, nothing inline.
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("manifest-src 'self'");
    expect(csp).toContain("worker-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*|https?:/);
  });

  it('the Apple touch icon is a 180 px PNG (iOS fills transparency with black: it is the full-bleed one)', async () => {
    const res = await get('/assets/icons/apple-touch-icon.png');
    expect(res.headers.get('content-type')).toBe('image/png');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(pngSize(bytes)).toEqual({ width: 180, height: 180 });
    expect(bytes[25]).toBe(2); // colour type 2: RGB, no alpha
  });

  it('the registration script registers /sw.js for the whole site and is cached like nixa’s other scripts', async () => {
    const res = await get('/assets/web-app.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(await res.text()).toContain("navigator.serviceWorker.register('/sw.js', { scope: '/' })");
  });

  it('the offline page shows both languages (offline the switch cannot work), with the operator’s footer', async () => {
    const res = await get('/offline');
    const html = await res.text();
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html).toContain('<h1>Không có kết nối mạng <span lang="en">(You are offline)</span></h1>');
    expect(html).toContain('<html lang="vi">'); // not class="lang-vi", which hides the English
    expect(html).not.toContain('class="language"');
    expect(html).toContain('<footer class="site">');
    expect(html).not.toContain('{{');
    // The same for everyone: no cookie decides it.
    const withEnglishOff = await (await get('/offline', { headers: { cookie: 'nixa_lang=vi' } })).text();
    expect(withEnglishOff).toBe(html);
  });
});

// ── The service worker, as served ─────────────────────────────────────────────

type Action = 'pass' | 'asset' | 'page';

interface FakeRequest {
  method: string;
  url: string;
  mode: string;
}

/**
 * Runs the served sw.js in a sandbox standing in for a worker: `self`, a Cache API
 * that records every write, and a network that is up or down.
 */
function runWorker(source: string, origin: string, opts: { windows?: string[] } = {}) {
  const listeners = new Map<string, (event: unknown) => void>();
  const stored = new Map<string, Response>();
  const writes: string[] = [];
  const fetched: string[] = [];
  /** What the worker sent with each fetch it made itself (method, headers, body…), by URL. */
  const sent: { url: string; init: Record<string, unknown> | undefined }[] = [];
  const notifications: { title: string; options: Record<string, unknown> }[] = [];
  const subscribed: unknown[] = [];
  /** What happened to windows: "focus <url>", "navigate <url> → <target>", "open <url>". */
  const windowLog: string[] = [];
  let online = true;
  const cache = {
    async addAll(requests: { url: string; cache: string; credentials: string }[]) {
      for (const r of requests) {
        writes.push(`addAll ${r.url} cache=${r.cache} credentials=${r.credentials}`);
        stored.set(r.url, new Response(`stored ${r.url}`));
      }
    },
    async put(request: { url?: string } | string) {
      writes.push(`put ${typeof request === 'string' ? request : request.url}`);
    },
    async add(request: { url?: string } | string) {
      writes.push(`add ${typeof request === 'string' ? request : request.url}`);
    },
    async match(path: string) {
      return stored.get(path)?.clone();
    },
  };
  const sandbox: Record<string, unknown> = {
    self: {
      location: { origin },
      addEventListener: (type: string, fn: (event: unknown) => void) => listeners.set(type, fn),
      skipWaiting: async () => {},
      clients: {
        claim: async () => {},
        matchAll: async () =>
          (opts.windows ?? []).map((url) => {
            const w = {
              url,
              focus: async () => (windowLog.push(`focus ${url}`), w),
              navigate: async (target: string) => (windowLog.push(`navigate ${url} → ${target}`), w),
            };
            return w;
          }),
        openWindow: async (url: string) => void windowLog.push(`open ${url}`),
      },
      registration: {
        showNotification: async (title: string, options: Record<string, unknown>) => void notifications.push({ title, options }),
        pushManager: {
          subscribe: async (options: unknown) => {
            subscribed.push(options);
            return { toJSON: () => ({ endpoint: 'https://push.example/renewed', expirationTime: null, keys: { p256dh: 'P', auth: 'A' } }) };
          },
        },
      },
    },
    caches: { open: async () => cache, keys: async () => ['nixa-static-old', 'other-app'], delete: async (name: string) => writes.push(`delete ${name}`) },
    fetch: async (request: FakeRequest | string, init?: Record<string, unknown>) => {
      const url = typeof request === 'string' ? request : request.url;
      fetched.push(url);
      sent.push({ url, init });
      if (!online) throw new TypeError('Failed to fetch');
      if (url === '/p/push/key') return Response.json({ publicKey: 'BNixaKey' });
      return new Response(`network ${url}`);
    },
    Request: class {
      constructor(
        public url: string,
        init: Record<string, string>,
      ) {
        Object.assign(this, init);
      }
    },
    Response,
    URL,
    Promise,
  };
  runInNewContext(source, sandbox, { filename: 'sw.js' });
  const decide = sandbox.decide as (request: FakeRequest, origin: string) => Action;

  /** Dispatches a lifecycle event and waits for what it asked to wait for. */
  async function lifecycle(type: 'install' | 'activate') {
    let waited: Promise<unknown> = Promise.resolve();
    listeners.get(type)!({ waitUntil: (p: Promise<unknown>) => (waited = p) });
    await waited;
  }

  /** Dispatches a fetch event: undefined when the worker left it to the browser, else its answer's text. */
  async function request(path: string, init: Partial<FakeRequest> = {}): Promise<string | undefined | 'network error'> {
    let answer: Promise<Response> | undefined;
    listeners.get('fetch')!({ request: { method: 'GET', mode: 'no-cors', url: new URL(path, origin).href, ...init }, respondWith: (p: Promise<Response>) => (answer = p) });
    if (!answer) return undefined;
    const res = await answer;
    return res.type === 'error' ? 'network error' : res.text();
  }

  /** Dispatches any other event and waits for what it asked to wait for (and whether that failed). */
  async function dispatch(type: string, event: Record<string, unknown>): Promise<'done' | 'failed'> {
    let waited: Promise<unknown> = Promise.resolve();
    listeners.get(type)!({ ...event, waitUntil: (p: Promise<unknown>) => (waited = p) });
    return waited.then(
      () => 'done',
      () => 'failed',
    );
  }

  return { decide, lifecycle, request, dispatch, writes, fetched, sent, notifications, subscribed, windowLog, setOnline: (up: boolean) => (online = up), listeners };
}

/** Everything the worker must leave alone: the journey, the protocol, the account, the console. */
const SENSITIVE = [
  '/interaction/Xk3vB9',
  '/interaction/Xk3vB9/login',
  '/auth',
  '/auth?client_id=demo&response_type=code&state=abc',
  '/token',
  '/token/revocation',
  '/account',
  '/account/',
  '/account/passkeys',
  '/account/callback?code=abc&state=def',
  '/session/end',
  '/session/end/confirm',
  '/device',
  '/device/ABCDEFGH',
  '/federation/callback?code=abc&state=def',
  '/federation/signed-out',
  '/admin/api/v1/accounts',
  '/console',
  '/console/services',
  '/p',
  '/p?code=BCDF-GHJK-LM',
  '/p/BCDFGHJKLM',
  '/p/BCDFGHJKLM/approve',
  '/p/push/key',
  '/p/push/subscription',
];

describe('the service worker, as served', () => {
  let source: string;
  let origin: string;

  beforeAll(async () => {
    const res = await get('/sw.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    // Revalidated every time the browser checks for a new version.
    expect(res.headers.get('cache-control')).toBe('no-cache');
    source = await res.text();
    origin = new URL(nixa.url).origin;
  });

  it('names its cache after a digest of what it precaches', () => {
    expect(source).not.toContain('{{');
    expect(source).toMatch(/const CACHE = 'nixa-static-[0-9a-f]{16}';/);
  });

  it.each(SENSITIVE)('leaves %s to the browser, as a navigation, a fetch and a form post', (path) => {
    const { decide } = runWorker(source, origin);
    for (const mode of ['navigate', 'cors', 'no-cors', 'same-origin']) {
      for (const method of ['GET', 'POST', 'HEAD']) expect([mode, method, decide({ method, mode, url: `${origin}${path}` }, origin)]).toEqual([mode, method, 'pass']);
    }
  });

  it('leaves them alone even if a later edit lists them as files to precache or pages to answer offline', () => {
    const widened = source
      .replace("const PRECACHE = [", "const PRECACHE = ['/account', '/auth', '/console', ")
      .replace("const PUBLIC_PAGES = [", "const PUBLIC_PAGES = ['/account', '/interaction/Xk3vB9', '/device', '/p', '/p/BCDFGHJKLM', ");
    expect(widened).not.toBe(source);
    const { decide } = runWorker(widened, origin);
    for (const path of ['/account', '/auth', '/console', '/interaction/Xk3vB9', '/device', '/p', '/p/BCDFGHJKLM']) {
      for (const mode of ['navigate', 'no-cors']) expect([path, mode, decide({ method: 'GET', mode, url: `${origin}${path}` }, origin)]).toEqual([path, mode, 'pass']);
    }
  });

  it('leaves every request alone but the precached files and nixa’s public pages', () => {
    const { decide } = runWorker(source, origin);
    const at = (path: string, mode = 'no-cors', method = 'GET') => decide({ method, mode, url: `${origin}${path}` }, origin);
    expect(at('/assets/nixa.css')).toBe('asset');
    expect(at('/favicon.svg')).toBe('asset');
    expect(at('/manifest.webmanifest', 'cors')).toBe('asset');
    expect(at('/', 'navigate')).toBe('page');
    expect(at('/help', 'navigate')).toBe('page');
    expect(at('/offline', 'navigate')).toBe('page');
    // A file is not a page, nor a page a file; a query may carry a code or a state.
    expect(at('/assets/nixa.css', 'navigate')).toBe('pass');
    expect(at('/help', 'cors')).toBe('pass');
    expect(at('/?code=abc', 'navigate')).toBe('pass');
    expect(at('/assets/nixa.css?v=2')).toBe('pass');
    expect(at('/assets/nixa.css', 'no-cors', 'POST')).toBe('pass');
    // Anything else nixa answers: the protocol, the keys, the language switch, error pages.
    for (const path of ['/jwks', '/.well-known/openid-configuration', '/me', '/reg', '/request', '/language?show=vi-en', '/error/abc', '/sw.js', '/assets/passkeys.js']) {
      expect([path, at(path, 'navigate'), at(path, 'cors')]).toEqual([path, 'pass', 'pass']);
    }
    // Another origin, even one of nixa's own paths.
    expect(decide({ method: 'GET', mode: 'no-cors', url: 'https://cdn.example/assets/nixa.css' }, origin)).toBe('pass');
    expect(decide({ method: 'GET', mode: 'navigate', url: 'https://source.example/' }, origin)).toBe('pass');
  });

  it('precaches only public files that nixa serves to anyone, without cookies, and drops older copies', async () => {
    const worker = runWorker(source, origin);
    await worker.lifecycle('install');
    const precached = worker.writes.map((w) => /^addAll (\S+) cache=reload credentials=omit$/.exec(w)?.[1]);
    expect(precached).toEqual(['/offline', '/assets/nixa.css', '/assets/web-app.js', '/favicon.svg', '/manifest.webmanifest']);
    for (const path of precached as string[]) {
      const res = await get(path);
      expect([path, res.status, res.headers.get('set-cookie')]).toEqual([path, 200, null]);
    }
    await worker.lifecycle('activate');
    expect(worker.writes.slice(precached.length)).toEqual(['delete nixa-static-old']);
  });

  it('online and offline, never stores or serves a stored copy of the account or the journey; offline shows the offline page for public pages only', async () => {
    const worker = runWorker(source, origin);
    await worker.lifecycle('install');
    const installed = worker.writes.length;

    // Online: the network answers what the worker answers at all; nothing is stored.
    expect(await worker.request('/', { mode: 'navigate' })).toBe(`network ${origin}/`);
    expect(await worker.request('/assets/nixa.css')).toBe(`network ${origin}/assets/nixa.css`);
    for (const path of SENSITIVE) expect([path, await worker.request(path, { mode: 'navigate' })]).toEqual([path, undefined]);

    // Offline: the stored copies, the offline page for a public page, and still nothing for the rest.
    worker.setOnline(false);
    expect(await worker.request('/assets/nixa.css')).toBe('stored /assets/nixa.css');
    expect(await worker.request('/help', { mode: 'navigate' })).toBe('stored /offline');
    expect(await worker.request('/', { mode: 'navigate' })).toBe('stored /offline');
    for (const path of SENSITIVE) {
      expect([path, await worker.request(path, { mode: 'navigate' })]).toEqual([path, undefined]);
      expect([path, await worker.request(path, { mode: 'cors' })]).toEqual([path, undefined]);
    }
    // A file it never precached is left to the browser (a network error), not answered with another's copy.
    expect(await worker.request('/assets/passkeys.js')).toBeUndefined();

    expect(worker.writes.slice(installed)).toEqual([]);
    // The worker never even fetched a sensitive path itself.
    expect(worker.fetched.filter((url) => SENSITIVE.some((p) => url === `${origin}${p}`))).toEqual([]);
  });

  it('listens for the lifecycle, fetches and Web Push, nothing else', () => {
    const worker = runWorker(source, origin);
    expect([...worker.listeners.keys()]).toEqual(['install', 'activate', 'fetch', 'push', 'notificationclick', 'pushsubscriptionchange']);
  });
});

describe('the service worker’s Web Push, as served', () => {
  let source: string;
  let origin: string;

  beforeAll(async () => {
    source = await (await get('/sw.js')).text();
    origin = new URL(nixa.url).origin;
  });

  const TITLE = 'Yêu cầu xác nhận đăng nhập (A sign-in needs your approval)';
  const BODY = 'Mở nixa để xem và xác nhận (Open nixa to see and approve)';
  const pushOf = (payload: unknown) => ({ data: { json: () => JSON.parse(JSON.stringify(payload)), text: () => JSON.stringify(payload) } });

  it('shows a sign-in request in its own words (one tag, ringing again, staying until acted on), storing and fetching nothing, keeping nothing of the push', async () => {
    const worker = runWorker(source, origin);
    await worker.lifecycle('install');
    const installed = worker.writes.length;
    expect(await worker.dispatch('push', pushOf({ type: 'ciba', id: 'auth-req-7Hq2xLw9' }))).toBe('done');
    expect(worker.notifications).toHaveLength(1);
    const [shown] = worker.notifications;
    expect(shown!.title).toBe(TITLE);
    expect(shown!.options).toMatchObject({ body: BODY, tag: 'nixa-ciba', renotify: true, requireInteraction: true });
    // Not even in the notification's data: a click opens /p, which asks nixa.
    expect(shown!.options).not.toHaveProperty('data');
    expect(JSON.stringify(worker.notifications)).not.toContain('auth-req-7Hq2xLw9');
    expect(worker.writes.slice(installed)).toEqual([]);
    expect(worker.fetched).toEqual([]);
  });

  it('still shows it for a push it cannot read (empty, not JSON, an unknown kind): every push must show something', async () => {
    const worker = runWorker(source, origin);
    await worker.dispatch('push', {});
    await worker.dispatch('push', { data: { json: () => JSON.parse('not json'), text: () => 'not json' } });
    await worker.dispatch('push', pushOf({ type: 'later-kind', id: 'x', name: 'Nguyễn Văn An' }));
    expect(worker.notifications.map((n) => [n.title, n.options.tag])).toEqual([
      [TITLE, 'nixa-ciba'],
      [TITLE, 'nixa-ciba'],
      [TITLE, 'nixa-ciba'],
    ]);
    expect(JSON.stringify(worker.notifications)).not.toContain('Nguyễn');
    expect(worker.writes).toEqual([]);
  });

  it('a click closes the notification and opens the phone’s page /p', async () => {
    const worker = runWorker(source, origin);
    const closed: string[] = [];
    expect(await worker.dispatch('notificationclick', { notification: { tag: 'nixa-ciba', close: () => closed.push('closed') } })).toBe('done');
    expect(closed).toEqual(['closed']);
    expect(worker.windowLog).toEqual([`open ${origin}/p`]);
  });

  it('a click focuses the phone’s page when it is open, loading it again; a window elsewhere (mid sign-in, another site) is left alone', async () => {
    const open = runWorker(source, origin, { windows: [`${origin}/interaction/Xk3vB9`, `${origin}/p`] });
    await open.dispatch('notificationclick', { notification: { close: () => {} } });
    expect(open.windowLog).toEqual([`focus ${origin}/p`, `navigate ${origin}/p → ${origin}/p`]);

    const elsewhere = runWorker(source, origin, { windows: [`${origin}/account`, 'https://evil.example/p', `${origin}/p/BCDFGHJKLM`] });
    await elsewhere.dispatch('notificationclick', { notification: { close: () => {} } });
    expect(elsewhere.windowLog).toEqual([`open ${origin}/p`]);
  });

  it('gives nixa the renewed subscription as JSON, from its own origin (Origin sent despite no-referrer) with the phone’s cookie', async () => {
    const renewed = { endpoint: 'https://push.example/new', expirationTime: null, keys: { p256dh: 'P', auth: 'A' } };
    const worker = runWorker(source, origin);
    expect(await worker.dispatch('pushsubscriptionchange', { newSubscription: { toJSON: () => renewed } })).toBe('done');
    expect(worker.sent).toEqual([
      {
        url: '/p/push/subscription',
        init: {
          method: 'POST',
          credentials: 'same-origin',
          referrerPolicy: 'same-origin',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify(renewed),
        },
      },
    ]);
  });

  it('without a new subscription, makes one with the old one’s key, or else nixa’s, and sends it', async () => {
    const withOld = runWorker(source, origin);
    await withOld.dispatch('pushsubscriptionchange', { oldSubscription: { options: { applicationServerKey: 'BOldKey' } } });
    expect(withOld.subscribed).toEqual([{ userVisibleOnly: true, applicationServerKey: 'BOldKey' }]);
    expect(withOld.sent.map((r) => [r.url, r.init?.method])).toEqual([['/p/push/subscription', 'POST']]);

    const fromNixa = runWorker(source, origin);
    await fromNixa.dispatch('pushsubscriptionchange', {});
    expect(fromNixa.subscribed).toEqual([{ userVisibleOnly: true, applicationServerKey: 'BNixaKey' }]);
    expect(fromNixa.sent.map((r) => [r.url, r.init?.referrerPolicy])).toEqual([
      ['/p/push/key', 'same-origin'],
      ['/p/push/subscription', 'same-origin'],
    ]);
  });

  it('a renewal that fails (offline) is given up quietly: the phone still finds its requests on /p', async () => {
    const worker = runWorker(source, origin);
    worker.setOnline(false);
    expect(await worker.dispatch('pushsubscriptionchange', { newSubscription: { toJSON: () => ({}) } })).toBe('done');
    expect(worker.sent.map((r) => r.url)).toEqual(['/p/push/subscription']);
    expect(worker.writes).toEqual([]);
  });
});
