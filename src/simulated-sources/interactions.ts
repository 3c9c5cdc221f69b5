// The source's sign-in page: pick one seeded test citizen, or refuse.
//
//   GET  /interaction/:uid         the picker (or, in "deny" mode, an immediate refusal;
//                                  with a session and only consent missing, the grant)
//   POST /interaction/:uid/pick    citizen=<key>: sign-in and grant in one step
//   POST /interaction/:uid/refuse  error=access_denied back to the relying party
//
// The interaction is bound to this browser by oidc-provider's interaction cookie
// (SameSite=Lax, so it does not travel on another site's POST); posts must also
// come from this origin when the browser says where they come from.
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';

import { TEST_CITIZENS } from './citizens.js';
import type { MisbehaviourState } from './misbehaviour.js';
import { renderFragment, renderSourcePage } from './pages.js';
import { subjectFor, type SourceProfile } from './profiles.js';

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(pick|refuse))?$/;

export interface InteractionDeps {
  provider: Provider;
  profile: SourceProfile;
  state: MisbehaviourState;
}

/** Thrown for a request the picker cannot act on; rendered by the app's error boundary. */
export class PickerError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

export function interactionRoutes({ provider, profile, state }: InteractionDeps) {
  const choices = TEST_CITIZENS.filter((c) => profile.knows(c));

  return async function interactions(ctx: Context, next: Next): Promise<void> {
    const m = ROUTE.exec(ctx.path);
    if (!m) return next();
    const [, uid, action] = m;
    const allowed = action ? 'POST' : 'GET';
    if (ctx.method !== allowed && !(allowed === 'GET' && ctx.method === 'HEAD')) {
      ctx.status = 405;
      ctx.set('Allow', allowed);
      return;
    }
    if (action) assertSameOrigin(ctx);
    ctx.set('Cache-Control', 'no-store');

    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid) throw new PickerError(400, 'invalid_request', 'this sign-in does not belong to this browser');
    const clientId = String(details.params.client_id);

    if (state.current.mode === 'deny' || action === 'refuse') {
      return finish(ctx, provider, { error: 'access_denied', error_description: 'End-User refused the sign-in at the source' });
    }

    if (!action) {
      // Signed in here already, only this client's grant (or a scope of it) is missing:
      // like a real source, do not ask the citizen again.
      if (details.prompt.name === 'consent' && details.session) {
        const grant = details.grantId
          ? await provider.Grant.find(details.grantId)
          : new provider.Grant({ accountId: details.session.accountId, clientId });
        if (!grant) throw new PickerError(400, 'invalid_request', 'the grant of this sign-in has expired');
        const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
        if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
        if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
        return finish(ctx, provider, { consent: { grantId: await grant.save() } }, true);
      }
      ctx.type = 'html';
      ctx.body = renderSourcePage(profile, 'pick', {
        title: 'Chọn người dân thử nghiệm',
        uid,
        clientId,
        claimList: sharedClaims(profile, String(details.params.scope ?? '')).join(', '),
        choices: choices
          .map((c, i) => {
            const detail = profile.describe(c);
            return renderFragment('pick-option', { ...c, detailVi: detail.vi, detailEn: detail.en, checked: i === 0 ? ' checked' : '' });
          })
          .join(''),
      });
      return;
    }

    const key = (ctx.request as { body?: Record<string, unknown> }).body?.citizen;
    const citizen = choices.find((c) => c.key === key);
    if (!citizen) throw new PickerError(400, 'invalid_request', 'citizen: choose one of the listed test citizens');
    const accountId = subjectFor(profile, citizen);
    const grant = new provider.Grant({ accountId, clientId });
    grant.addOIDCScope(String(details.params.scope ?? 'openid'));
    const misbehaviour = state.current;
    await finish(ctx, provider, {
      login: {
        accountId,
        // acr and amr are fixed when the citizen signs in, so drop-claim takes them out here.
        // A source with one way of signing in answers its own acr whatever acr_values
        // asked (OIDC Core §3.1.2.1: acr_values is a request, not a demand); "acr" makes it answer another.
        ...(state.drops('acr') ? {} : { acr: misbehaviour.mode === 'acr' ? misbehaviour.acr : profile.acr }),
        ...(state.drops('amr') ? {} : { amr: [...profile.amr] }),
        // auth_time: now, unless the source is told to answer from an old session.
        ...(misbehaviour.mode === 'stale-auth-time' ? { ts: Math.floor(Date.now() / 1000) - misbehaviour.seconds } : {}),
      },
      consent: { grantId: await grant.save() },
    });
  };
}

async function finish(ctx: Context, provider: Provider, result: InteractionResults, mergeWithLastSubmission = false): Promise<void> {
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission });
  ctx.status = 303;
  ctx.redirect(returnTo);
}

/** Claim names the requested scopes release, for the picker to say what will be shared. */
function sharedClaims(profile: SourceProfile, scope: string): string[] {
  const scopes = scope.split(' ');
  return ['sub', ...(scopes.includes(profile.scope) ? profile.claimNames : [])];
}

/** Browsers send Origin on form posts; one from elsewhere (or an opaque "null") is refused. */
function assertSameOrigin(ctx: Context): void {
  const origin = ctx.get('Origin');
  const site = ctx.get('Sec-Fetch-Site');
  // Not ctx.origin: since Koa 3 that is the request's Origin header, not this server's origin.
  const own = `${ctx.protocol}://${ctx.host}`;
  // A page sent with Referrer-Policy: no-referrer makes browsers post with "Origin: null";
  // then Sec-Fetch-Site (set by the browser, not scriptable) is what tells.
  const originOk = !origin || origin === own || (origin === 'null' && site === 'same-origin');
  if (!originOk || (site && site !== 'same-origin' && site !== 'none')) {
    throw new PickerError(403, 'invalid_request', 'the form must be posted from this source’s own page');
  }
}
