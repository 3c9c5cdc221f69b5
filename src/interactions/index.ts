// The sign-in journey, step by step, and the file that implements each step:
//
//   step                  request                                 file
//   1 choose a source     GET  /interaction/:uid   (prompt login)  chooser.ts
//   2 go to the source    POST /interaction/:uid/source           chooser.ts → federation/upstream.ts
//   3 source callback     GET  /federation/callback               callback.ts (the sign-in named by in-flight.ts's cookie)
//   4 link the account      (same request)                        callback.ts → federation/mapping.ts (the answer gives
//                                                                  the level and freshness asked) → accounts/ (linking rule)
//     without that cookie GET  /interaction/:uid/upstream         callback.ts (3 hops here, where the interaction cookie is sent)
//   4b act for whom      GET  /interaction/:uid   (prompt consent) representation.ts (a service that accepts representation)
//                         POST /interaction/:uid/represent        representation.ts (checked again at the registry)
//   5 consent             GET  /interaction/:uid   (prompt consent) consent.ts
//                         POST /interaction/:uid/consent           consent.ts
//   6 back to the service oidc-provider resumes at /auth/:uid
//   1b step up with a code POST /interaction/:uid/code             code.ts (form shown by the chooser)
//   1c step up, passkey   POST /interaction/:uid/passkey/options  passkey.ts (challenge for the page's script)
//                         POST /interaction/:uid/passkey          passkey.ts (the authenticator's answer)
//   1d with the bound phone POST /interaction/:uid/phone           phone.ts (QR code, number; the phone's side: src/phone/)
//                         GET  /interaction/:uid/phone[/status]   phone.ts (the page, and what its script polls)
//                         POST /interaction/:uid/phone/finish    phone.ts (the login once the phone approved)
//   1e on the bound phone POST /interaction/:uid/phone-here[/options] phone.ts (its passkey, right there)
//   cancel                POST /interaction/:uid/abort            chooser.ts
//   test login (dev)      POST /interaction/:uid/login            test-login.ts
//   an error page again   GET  /error/:code                       error-page.ts (where the language switch returns)
//
// Every POST carries a CSRF token; every step checks that the browser's
// interaction cookie belongs to the uid in the path (the callback: that its
// in-flight cookie names the sign-in the state is for).
import type { Context, Next } from 'koa';

import { InvalidInputError } from '../errors/index.js';
import { recordFailure } from '../metrics/index.js';
import { FederationError } from '../federation/index.js';
import { atCallback, CALLBACK_PATH, completeUpstream } from './callback.js';
import { errorPages, showFailure, showSignInOver } from './error-page.js';
import { abort, chooseSource, showChooser } from './chooser.js';
import { submitCode } from './code.js';
import { passkeyOptions, submitPasskey } from './passkey.js';
import { finishPhoneSignIn, phoneHereOptions, phoneSignInStatus, showPhoneSignIn, startPhoneSignIn, submitPhoneHere } from './phone.js';
import { decideConsent, showConsent } from './consent.js';
import { submitRepresentationChoice } from './representation.js';
import type { JourneyDeps } from './journey.js';
import { testLogin } from './test-login.js';

export { CALLBACK_PATH } from './callback.js';
export { boundaryPage, errorPages, type ErrorPageDeps } from './error-page.js';
export { TEST_ACR } from './test-login.js';
export type { JourneyDeps } from './journey.js';

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(source|upstream|consent|represent|abort|login|code|passkey|passkey\/options|phone|phone\/status|phone\/finish|phone-here|phone-here\/options))?$/;

export function interactionRoutes(deps: JourneyDeps) {
  // GET /error/<code>: any of the journey's error pages shown again (error-page.ts).
  const showErrorAgain = errorPages(deps);
  return async function journey(ctx: Context, next: Next): Promise<void> {
    try {
      if (ctx.path === CALLBACK_PATH && ctx.method === 'GET') return await atCallback(deps, ctx);
      const m = ROUTE.exec(ctx.path);
      if (!m) return await showErrorAgain(ctx, next);
      const [, uid, action] = m;
      const details = await deps
        .provider()
        .interactionDetails(ctx.req, ctx.res)
        .catch((err: unknown) => {
          // A source callback that lands in a browser without this sign-in is someone else's.
          if (action === 'upstream') throw new FederationError('state-mismatch', `no sign-in in this browser: ${(err as Error).message}`);
          // Back to a sign-in that is over (finished or expired): said as such, with the way back to the service.
          if (action === undefined && ctx.method === 'GET' && (err as Error).name === 'SessionNotFound') return undefined;
          throw err;
        });
      if (!details) return await showSignInOver(deps, ctx);
      if (details.uid !== uid) {
        if (action === 'upstream') throw new FederationError('state-mismatch', 'callback for another sign-in than this browser’s');
        throw new InvalidInputError('uid', 'does not match this browser’s sign-in');
      }
      ctx.set('Cache-Control', 'no-store');
      const body = ((ctx.request as { body?: Record<string, unknown> }).body ?? {}) as Record<string, unknown>;
      const route = `${ctx.method} ${action ?? ''}`;
      switch (route) {
        case 'GET ':
          return details.prompt.name === 'login' ? await showChooser(deps, ctx, details) : await showConsent(deps, ctx, details);
        case 'POST source':
          return await chooseSource(deps, ctx, details, body);
        case 'GET upstream':
          return await completeUpstream(deps, ctx, details);
        case 'POST consent':
          return await decideConsent(deps, ctx, details, body);
        case 'POST represent':
          if (details.prompt.name === 'consent') return await submitRepresentationChoice(deps, ctx, details, body);
          break;
        case 'POST code':
          if (details.prompt.name === 'login') return await submitCode(deps, ctx, details, body);
          break;
        case 'POST passkey/options':
          if (details.prompt.name === 'login') return await passkeyOptions(deps, ctx, details, body);
          break;
        case 'POST passkey':
          if (details.prompt.name === 'login') return await submitPasskey(deps, ctx, details, body);
          break;
        case 'POST phone':
          if (details.prompt.name === 'login') return await startPhoneSignIn(deps, ctx, details, body);
          break;
        case 'GET phone':
          if (details.prompt.name === 'login') return await showPhoneSignIn(deps, ctx, details);
          break;
        case 'GET phone/status':
          if (details.prompt.name === 'login') return await phoneSignInStatus(deps, ctx, details);
          break;
        case 'POST phone/finish':
          if (details.prompt.name === 'login') return await finishPhoneSignIn(deps, ctx, details, body);
          break;
        case 'POST phone-here/options':
          if (details.prompt.name === 'login') return await phoneHereOptions(deps, ctx, details, body);
          break;
        case 'POST phone-here':
          if (details.prompt.name === 'login') return await submitPhoneHere(deps, ctx, details, body);
          break;
        case 'POST abort':
          return await abort(deps, ctx, details, body);
        case 'POST login':
          if (deps.config.testLogin) return await testLogin(deps, ctx, details, body);
          break;
      }
      ctx.status = 404;
    } catch (err) {
      if (!(err instanceof FederationError)) throw err;
      deps.logger.warn({ reason: err.reason, source: err.sourceId, detail: err.detail }, 'upstream sign-in failed');
      recordFailure(deps.metrics, err.reason);
      await showFailure(deps, ctx, err);
    }
  };
}
