// nixa's pages over real HTTP as a citizen's browser (a UserAgent) sees them: a
// page fetched and a form posted with the browser's cookies, redirects not
// followed, and a field read from a form (its CSRF token, most often).
import type { UserAgent } from './user-agent.js';

/** A response and its body, read as text. */
export interface Fetched {
  res: Response;
  html: string;
}

/** The value of the form field `name` on a page (nixa writes name="…" value="…"), or undefined. */
export const field = (html: string, name: string): string | undefined => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1];

/** GET with the browser's cookies; a redirect is returned, not followed. */
export async function getPage(agent: UserAgent, url: string | URL): Promise<Fetched> {
  const res = await agent.request(url);
  return { res, html: await res.text() };
}

/** POST a form (application/x-www-form-urlencoded) with the browser's cookies; a redirect is returned, not followed. */
export async function postForm(agent: UserAgent, url: string | URL, fields: Record<string, string>): Promise<Fetched> {
  const res = await agent.request(url, {
    method: 'POST',
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  return { res, html: await res.text() };
}

/**
 * getPage and postForm by path on one site, whose address is known only once it
 * has started (`base` is read at each call, e.g. () => fed.nixa.config.issuer).
 */
export function pagesAt(base: () => string) {
  const url = (path: string) => new URL(path, base());
  return {
    url,
    get: (agent: UserAgent, path: string) => getPage(agent, url(path)),
    post: (agent: UserAgent, path: string, fields: Record<string, string>) => postForm(agent, url(path), fields),
  };
}
