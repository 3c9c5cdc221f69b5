// The one place nixa's own errors become HTTP answers: JSON for API callers,
// a bilingual page for browsers. Unexpected errors are logged, never shown.
import type { Context, Next } from 'koa';

import { ADMIN_API_PREFIX } from '../admin/index.js';
import { InvalidInputError, knownInputProblem, NixaError, NotFoundError, StorageUnavailableError, UnauthenticatedError } from '../errors/index.js';
import { boundaryPage } from '../interactions/index.js';
import type { Logger } from '../logging/index.js';
import { languageReturnsTo } from '../pages/index.js';

/** The code a browser's page shows: a sign-in that is over or unknown is said as such, not as a bad request. */
function pageCode(err: unknown, code: string): string {
  return (err as Error | undefined)?.name === 'SessionNotFound' ? 'session_not_found' : code;
}

export function errorBoundary(logger: Logger) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      const known = err instanceof NixaError;
      // oidc-provider's own errors (e.g. SessionNotFound from interactionDetails) carry status and error.
      const oidc = err as { status?: number; error?: string; expose?: boolean };
      const status = known ? err.status : (oidc.status ?? 500);
      const code = known ? err.code : (oidc.error ?? 'server_error');
      if (err instanceof StorageUnavailableError || code === 'temporarily_unavailable') {
        // A lost database connection (failover, restart): expected now and then, and the
        // stack says nothing more than the message. The caller may simply try again.
        logger.warn({ err: { name: (err as Error).name, message: (err as Error).message }, path: ctx.path }, 'request failed: database unavailable');
        ctx.set('Retry-After', '1');
      } else if (status >= 500) {
        logger.error({ err: { name: (err as Error).name, message: (err as Error).message, stack: (err as Error).stack }, path: ctx.path }, 'request failed');
      }
      ctx.status = status;
      if (err instanceof UnauthenticatedError) ctx.set('WWW-Authenticate', err.challenge);
      const message = known && status < 500 ? err.message : status < 500 ? 'The request is not valid.' : 'nixa could not complete this request.';
      // The admin API always answers JSON; pages answer browsers with a page.
      if (!ctx.path.startsWith(ADMIN_API_PREFIX) && ctx.accepts('html', 'json') === 'html') {
        // Words by code alone (the message is for operators and may repeat input),
        // so that the page can be shown again at /error/<code> for the language switch.
        const page = boundaryPage(pageCode(err, code), status, err instanceof InvalidInputError ? knownInputProblem(err.field, err.message) : undefined);
        ctx.type = 'html';
        ctx.body = page.html;
        // A path nothing answered is safe to ask for again; any other failed request is not.
        const nothingHere = err instanceof NotFoundError && err.what === 'page' && (ctx.method === 'GET' || ctx.method === 'HEAD');
        if (nothingHere) languageReturnsTo(ctx, ctx.path);
        else if (page.again) languageReturnsTo(ctx, page.again);
      } else {
        ctx.body = { error: code, message, ...(err instanceof InvalidInputError ? { field: err.field } : {}) };
      }
    }
  };
}
