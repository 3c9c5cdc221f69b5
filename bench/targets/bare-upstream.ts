// The upstream of the fair federated baseline: a second bare oidc-provider
// (in-memory adapter) whose login is a picker that signs the chosen citizen in
// at once, as the simulated citizen-ID source's does: GET the picker, POST the
// pick, resume. In a process of its own, like the simulated source.
import { randomBytes } from 'node:crypto';

import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

import { citizensKnownTo } from '../../src/simulated-sources/index.js';
import { freeLoopbackPort } from '../net.js';
import { bareConfiguration, listen, readForm } from './baseline.js';
import type { Started } from './main.js';
import type { ProviderShape } from './nixa.js';

export interface BareUpstreamParams {
  shape: ProviderShape;
  /** The downstream bare provider's callback. */
  redirectUri: string;
  secret: string;
}

export interface BareUpstreamStarted {
  issuer: string;
  citizens: string[];
}

export const UPSTREAM_CLIENT_ID = 'bare-downstream';

function picker(provider: Provider, citizens: string[]) {
  const buttons = citizens.map((c) => `<button name="citizen" value="${c}">${c}</button>`).join('');
  return async function interactions(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    const m = /^\/interaction\/([A-Za-z0-9_-]{1,64})(\/pick)?$/.exec(ctx.path);
    if (!m) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (!m[2] && ctx.method === 'GET') {
      ctx.type = 'html';
      ctx.body = `<h1>Pick a citizen</h1><form method="post" action="/interaction/${details.uid}/pick">${buttons}</form>`;
      return;
    }
    if (m[2] && ctx.method === 'POST') {
      const accountId = (await readForm(ctx.req)).get('citizen');
      if (!accountId || !citizens.includes(accountId)) ctx.throw(400, 'unknown citizen');
      const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
      if (details.params.scope) grant.addOIDCScope(String(details.params.scope));
      const grantId = await grant.save();
      await provider.interactionFinished(
        ctx.req,
        ctx.res,
        { login: { accountId, amr: ['pwd', 'otp'] }, consent: { grantId } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    ctx.status = 405;
  };
}

export async function startBareUpstreamRole(params: BareUpstreamParams): Promise<Started> {
  const port = await freeLoopbackPort();
  const issuer = `http://127.0.0.1:${port}`;
  const citizens = citizensKnownTo('citizen_id').map((c) => c.key);
  const configuration = await bareConfiguration(params.shape, [
    {
      client_id: UPSTREAM_CLIENT_ID,
      client_secret: params.secret,
      redirect_uris: [params.redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid profile',
    },
  ]);
  // The simulated source puts its attributes in the ID token; so does this one.
  configuration.conformIdTokenClaims = false;
  configuration.findAccount = (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub, name: `Citizen ${sub}` }) });
  const provider = new Provider(issuer, configuration);
  provider.use(picker(provider, citizens));
  const close = await listen(provider, port);
  return { result: { issuer, citizens } satisfies BareUpstreamStarted, close };
}

export const randomSecret = () => randomBytes(24).toString('base64url');
