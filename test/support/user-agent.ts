// A minimal browser for protocol tests: follows redirects by hand and keeps
// cookies per origin, so each step of a sign-in can be observed.

/** How a UserAgent sends one request (no redirect following); fetch unless told otherwise. */
export type Transport = (url: URL, init: RequestInit) => Promise<Response>;

export class UserAgent {
  readonly cookies = new Map<string, Map<string, string>>();

  constructor(private readonly transport: Transport = (url, init) => fetch(url, { ...init, redirect: 'manual' })) {}

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
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await this.transport(u, { ...init, headers });
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a)) || attrs.some((a) => /^\s*max-age=0/i.test(a));
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
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
