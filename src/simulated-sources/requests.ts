// What the source was asked: the parameters of the authorization requests it
// received, newest last, so that tests can check what nixa sends upstream
// (acr_values, prompt, max_age) at the source itself rather than in nixa.
import type { Context, Next } from 'koa';

/** Enough for any test; the dev server must not grow without bound. */
const KEPT = 100;

export class AuthorizationRequests {
  #received: URLSearchParams[] = [];

  record(params: URLSearchParams): void {
    this.#received.push(params);
    if (this.#received.length > KEPT) this.#received.shift();
  }

  /** The requests received so far (copies), oldest first. */
  list(): URLSearchParams[] {
    return this.#received.map((p) => new URLSearchParams(p));
  }
}

/** Records every GET to the authorization endpoint before oidc-provider answers it. */
export function recordAuthorizationRequests(log: AuthorizationRequests, path = '/auth') {
  return async function recordAuthorization(ctx: Context, next: Next): Promise<void> {
    if (ctx.path === path && ctx.method === 'GET') log.record(new URLSearchParams(ctx.querystring));
    return next();
  };
}
