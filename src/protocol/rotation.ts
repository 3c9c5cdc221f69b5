// Refresh token rotation in one statement. At the token endpoint oidc-provider
// consumes the presented refresh token and then saves its successor, with nothing
// in between that reads the store; nixa's adapter defers the consume and runs it
// with the insert of the successor as one statement: the successor is written
// only if this request spent its predecessor (a parallel use of the same token
// finds it spent and gets nothing). One round trip and one commit instead of two.
//
// A consume still pending when the request ends (something failed before the
// successor was saved) is run then, as it would have been at once. The code
// between oidc-provider's consume() and save() (grants/refresh_token.js) only
// builds the successor; nothing there reads the store.
import { AsyncLocalStorage } from 'node:async_hooks';

import type { KoaContextWithOIDC } from 'oidc-provider';

export interface Rotation {
  /** The refresh token this request consumed, not yet written as consumed. */
  consumed?: string;
}

const rotation = new AsyncLocalStorage<Rotation>();

/** The token request under way, if the current code runs in one. */
export function currentRotation(): Rotation | undefined {
  return rotation.getStore();
}

/**
 * oidc-provider middleware: runs each token request in its own Rotation; `spend`
 * writes a consume left pending (the adapter's plain consume).
 */
export function rotationInOneStatement(spend: (id: string) => Promise<void>) {
  return async function rotationScope(ctx: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<unknown> {
    if (ctx.method !== 'POST' || ctx.path !== '/token') return next();
    const r: Rotation = {};
    try {
      await rotation.run(r, next);
    } finally {
      const left = r.consumed;
      r.consumed = undefined;
      // The request failed after the consume (its answer is an error already): the
      // token is spent all the same. A failure here changes nothing in that answer.
      if (left !== undefined) await spend(left).catch(() => {});
    }
  };
}
