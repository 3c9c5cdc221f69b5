// The fair federated baseline: a bare oidc-provider (in-memory adapter) whose
// login federates to a bare upstream provider (bare-upstream.ts) with
// openid-client v6, code + PKCE, as nixa does with an identity source: a chooser
// page, a POST that sends the browser upstream, a callback that redeems the code
// server to server (ID token signature checked, as nixa's enableNonRepudiationChecks)
// and finishes login and consent at once. Its upstream login state lives in
// memory, keyed by state and bound to the browser's interaction cookie.
import { randomBytes } from 'node:crypto';

import * as oidc from 'openid-client';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

import type { TargetInfo } from '../protocol.js';
import { bareConfiguration, listen, readForm } from './baseline.js';
import { FEDERATED_CLIENT, SERVICE_CLIENT } from './clients.js';
import type { Started } from './main.js';
import type { ProviderShape } from './nixa.js';
import { UPSTREAM_CLIENT_ID } from './bare-upstream.js';

export const BARE_CALLBACK_PATH = '/federation/callback';
export const BARE_SOURCE_ID = 'bare-upstream';

export interface BareFederatedParams {
  shape: ProviderShape;
  /** Chosen by the orchestrator: the upstream must know the callback before this starts. */
  port: number;
  upstream: { issuer: string; secret: string; citizens: string[] };
}

interface PendingLogin {
  uid: string;
  verifier: string;
  nonce: string;
}

function federation(provider: Provider, upstream: oidc.Configuration, callbackUrl: string) {
  const pending = new Map<string, PendingLogin>();
  return async function interactions(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    if (ctx.path === BARE_CALLBACK_PATH && ctx.method === 'GET') {
      const state = String(ctx.query.state ?? '');
      const login = pending.get(state);
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      if (!login || login.uid !== details.uid) ctx.throw(400, 'unknown state');
      pending.delete(state);
      const tokens = await oidc.authorizationCodeGrant(upstream, new URL(ctx.originalUrl, callbackUrl), {
        pkceCodeVerifier: login.verifier,
        expectedState: state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      });
      const accountId = tokens.claims()!.sub;
      const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
      if (details.params.scope) grant.addOIDCScope(String(details.params.scope));
      const grantId = await grant.save();
      await provider.interactionFinished(
        ctx.req,
        ctx.res,
        { login: { accountId, amr: ['fed'] }, consent: { grantId } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    const m = /^\/interaction\/([A-Za-z0-9_-]{1,64})(\/source)?$/.exec(ctx.path);
    if (!m) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (!m[2] && ctx.method === 'GET') {
      ctx.type = 'html';
      ctx.body = `<h1>Sign in with</h1><form method="post" action="/interaction/${details.uid}/source"><button name="source" value="${BARE_SOURCE_ID}">Upstream</button></form>`;
      return;
    }
    if (m[2] && ctx.method === 'POST') {
      if ((await readForm(ctx.req)).get('source') !== BARE_SOURCE_ID) ctx.throw(400, 'unknown source');
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const verifier = oidc.randomPKCECodeVerifier();
      pending.set(state, { uid: details.uid, verifier, nonce });
      const url = oidc.buildAuthorizationUrl(upstream, {
        redirect_uri: callbackUrl,
        scope: 'openid profile',
        response_type: 'code',
        state,
        nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      ctx.status = 303;
      ctx.redirect(url.href);
      return;
    }
    ctx.status = 405;
  };
}

export async function startBareFederatedRole(params: BareFederatedParams): Promise<Started> {
  const origin = `http://127.0.0.1:${params.port}`;
  const callbackUrl = `${origin}${BARE_CALLBACK_PATH}`;
  const secret = randomBytes(32).toString('base64url');
  const upstream = await oidc.discovery(new URL(params.upstream.issuer), UPSTREAM_CLIENT_ID, undefined, oidc.ClientSecretBasic(params.upstream.secret), {
    execute: [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks],
  });
  const provider = new Provider(
    origin,
    await bareConfiguration(params.shape, [
      {
        client_id: FEDERATED_CLIENT.client_id,
        client_secret: secret,
        redirect_uris: [...FEDERATED_CLIENT.redirect_uris],
        grant_types: [...FEDERATED_CLIENT.grant_types],
        response_types: ['code'],
        token_endpoint_auth_method: FEDERATED_CLIENT.token_endpoint_auth_method,
        scope: FEDERATED_CLIENT.scope,
      },
    ]),
  );
  provider.use(federation(provider, upstream, callbackUrl));
  const close = await listen(provider, params.port);
  const client = { clientId: FEDERATED_CLIENT.client_id, secret, redirectUri: FEDERATED_CLIENT.redirect_uris[0] };
  const info: TargetInfo = {
    name: 'federated baseline',
    origin,
    // Only the federated sign-in is run on this provider.
    webClient: client,
    serviceClient: { clientId: SERVICE_CLIENT.client_id, secret: '' },
    federation: {
      sourceId: BARE_SOURCE_ID,
      sourceOrigin: params.upstream.issuer,
      citizens: params.upstream.citizens,
      client,
      scope: FEDERATED_CLIENT.scope,
    },
  };
  return { result: info, close };
}
