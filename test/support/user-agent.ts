// A minimal browser for protocol tests: follows redirects by hand and keeps
// cookies per origin, so each step of a sign-in can be observed.

/** How a UserAgent sends one request (no redirect following); fetch unless told otherwise. */
export type Transport = (url: URL, init: RequestInit) => Promise<Response>;

export interface UserAgentOptions {
  /**
   * Keep cookies by name and Path and send each only under its path, as a browser
   * does (RFC 6265 §5.1.4): needed where two sign-ins run at once in one browser,
   * each with its own path-scoped interaction cookies. `cookies` then shows the
   * value last set under each name.
   */
  paths?: boolean;
}

interface ScopedCookie {
  name: string;
  path: string;
  value: string;
}

/** RFC 6265 §5.1.4: the cookie's path is the request path or a directory above it. */
const pathMatches = (cookiePath: string, requestPath: string) =>
  requestPath === cookiePath || (requestPath.startsWith(cookiePath) && (cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'));

export class UserAgent {
  readonly cookies = new Map<string, Map<string, string>>();
  readonly #scoped = new Map<string, ScopedCookie[]>();

  constructor(
    private readonly transport: Transport = (url, init) => fetch(url, { ...init, redirect: 'manual' }),
    private readonly options: UserAgentOptions = {},
  ) {}

  /** The cookies a request to `url` carries. */
  cookiesFor(url: URL): [string, string][] {
    if (!this.options.paths) return [...this.jar(url)];
    const sent = (this.#scoped.get(url.host) ?? []).filter((c) => pathMatches(c.path, url.pathname));
    return sent.sort((a, b) => b.path.length - a.path.length).map((c) => [c.name, c.value]);
  }

  /** Forgets a cookie by name (under every path), as a browser that blocks or lost it. */
  dropCookie(url: URL, name: string): void {
    this.jar(url).delete(name);
    const scoped = this.#scoped.get(url.host);
    if (scoped) this.#scoped.set(url.host, scoped.filter((c) => c.name !== name));
  }

  /** Sets a cookie as if the site had (for tests that forge one). */
  setCookie(url: URL, name: string, value: string, path = '/'): void {
    this.jar(url).set(name, value);
    const scoped = (this.#scoped.get(url.host) ?? []).filter((c) => !(c.name === name && c.path === path));
    this.#scoped.set(url.host, [...scoped, { name, path, value }]);
  }

  private jar(url: URL): Map<string, string> {
    let jar = this.cookies.get(url.host);
    if (!jar) {
      jar = new Map();
      this.cookies.set(url.host, jar);
    }
    return jar;
  }

  /** One request, no redirect following; stores Set-Cookie. */
  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const u = new URL(url);
    const jar = this.jar(u);
    const headers = new Headers(init.headers);
    const sent = this.cookiesFor(u);
    if (sent.length) headers.set('cookie', sent.map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await this.transport(u, { ...init, headers });
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a)) || attrs.some((a) => /^\s*max-age=0/i.test(a));
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
      if (this.options.paths) {
        // Without a Path attribute: the request path's directory (RFC 6265 §5.1.4).
        const path = attrs.map((a) => /^\s*path=(.*)$/i.exec(a)?.[1]?.trim()).find((p) => p?.startsWith('/')) ?? (u.pathname.slice(0, u.pathname.lastIndexOf('/')) || '/');
        const kept = (this.#scoped.get(u.host) ?? []).filter((k) => !(k.name === name && k.path === path));
        this.#scoped.set(u.host, expired || value === '' ? kept : [...kept, { name, path, value }]);
      }
    }
    return res;
  }

  /**
   * Follows redirects until a response is not a redirect, or until the next hop
   * would leave for `stopAt` (e.g. the relying party's redirect URI). Returns the
   * last response and the URL that was not followed, if any.
   */
  async follow(url: string | URL, init: RequestInit = {}, stopAt?: string): Promise<{ res: Response; url: string; stoppedAt?: string }> {
    let current = new URL(url);
    let res = await this.request(current, init);
    for (let hops = 0; hops < 20; hops++) {
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { res, url: current.toString() };
      const next = new URL(location, current);
      if (stopAt && next.toString().startsWith(stopAt)) return { res, url: current.toString(), stoppedAt: next.toString() };
      current = next;
      res = await this.request(current);
    }
    throw new Error('too many redirects');
  }

  /** Submits a form (application/x-www-form-urlencoded) and follows the result. */
  submit(url: string | URL, fields: Record<string, string>, stopAt?: string) {
    return this.follow(
      url,
      { method: 'POST', body: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      stopAt,
    );
  }
}
