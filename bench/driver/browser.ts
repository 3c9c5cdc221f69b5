// A browser without a past, as the round trips need one: keeps each origin's
// cookies apart (as the test UserAgent does: nixa and a source are both on
// 127.0.0.1, on different ports, and both name their cookies _interaction,
// _session, …), follows nothing by itself, and checks every status it gets.

import { nextTurn, routed } from './routes.js';

const REQUEST_TIMEOUT_MS = 10_000;

export const form = (fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

export class Browser {
  /** Cookies by host:port. Few cookies per origin: path and expiry attributes do not matter here. */
  readonly #jars = new Map<string, Map<string, string>>();
  /** Requests sent so far. */
  requests = 0;
  /** Where this browser's alternation over several instances starts (routes.ts). */
  readonly #firstTurn = nextTurn();

  #jar(url: URL): Map<string, string> {
    let jar = this.#jars.get(url.host);
    if (!jar) this.#jars.set(url.host, (jar = new Map()));
    return jar;
  }

  /** One request with this origin's cookies; stores what it sets. Checks nothing. */
  async send(url: URL, init: RequestInit = {}): Promise<Response> {
    const jar = this.#jar(url);
    const headers = new Headers(init.headers);
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const to = routed(url, this.#firstTurn + this.requests);
    this.requests += 1;
    const res = await fetch(to, { ...init, headers, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';', 1);
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value && !/expires=Thu, 01 Jan 1970/i.test(line) && !/max-age=0(;|$)/i.test(line)) jar.set(name, value);
      else jar.delete(name);
    }
    return res;
  }

  async request(url: URL, expected: 'redirect' | 'page', init: RequestInit = {}): Promise<Response> {
    const res = await this.send(url, init);
    const ok = expected === 'redirect' ? isRedirect(res) : res.status === 200;
    if (!ok) throw new Error(`${init.method ?? 'GET'} ${url.pathname}: expected a ${expected}, got ${res.status}: ${await describeBody(res)}`);
    return res;
  }

  /** Requests a URL that must redirect, and returns where to. */
  async redirect(url: URL, init?: RequestInit): Promise<URL> {
    return location(url, await this.request(url, 'redirect', init));
  }

  /** Requests a URL that must answer 200, and returns its body. */
  async page(url: URL, init?: RequestInit): Promise<string> {
    return (await this.request(url, 'page', init)).text();
  }
}

export const isRedirect = (res: Response) => res.status >= 300 && res.status < 400 && res.headers.has('location');

/** Where a redirect points; drains the body so the keep-alive connection can be reused. */
export async function location(from: URL, res: Response): Promise<URL> {
  await res.arrayBuffer();
  return new URL(res.headers.get('location') ?? '', from);
}

/** An error page's gist (nixa's and the sources' pages: its English message and error code), else the start of the body. */
export async function describeBody(res: Response): Promise<string> {
  const text = await res.text();
  const code = /<code>([^<]*)<\/code>/.exec(text)?.[1];
  if (code === undefined) return text.slice(0, 200);
  const english = /<p lang="en">([^<]*)<\/p>/.exec(text)?.[1] ?? /<p>[^<]*<span lang="en">\(([^<]*)\)<\/span><\/p>/.exec(text)?.[1];
  return `${english ?? 'error page'} (error code ${code})`;
}
