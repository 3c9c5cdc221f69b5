// The baseline: a bare oidc-provider with its default in-memory adapter, set up
// like nixa's (src/protocol/provider.ts) where that changes the work a request
// does: the same clients, PKCE required, scopes, TTLs, signing algorithms (ES256
// first), refresh token rotation, introspection, signed cookies, and a test login
// that grants the requested scope in one step. Runs in a process of its own.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';

import type { JWK } from 'jose';
import Provider, { type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

import { generateKey } from '../../src/keys/generate.js';
import { freeLoopbackPort } from '../net.js';
import type { TargetInfo } from '../protocol.js';
import { SERVICE_CLIENT, WEB_CLIENT } from './clients.js';
import type { Started } from './main.js';
import type { ProviderShape } from './nixa.js';

const ASYMMETRIC_ALGS = ['ES256', 'RS256', 'PS256', 'EdDSA'];

/** A private signing JWK of the same shape as nixa's key ring holds. */
async function signingKey(alg: string): Promise<JWK> {
  return JSON.parse((await generateKey('sig', alg)).privateMaterial) as JWK;
}

export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** The same test login as src/interactions: a form, then login and consent at once. */
function testLogin(provider: Provider) {
  return async function interactions(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
    const m = /^\/interaction\/([A-Za-z0-9_-]{1,64})(\/login)?$/.exec(ctx.path);
    if (!m) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const clientId = String(details.params.client_id);
    if (!m[2] && ctx.method === 'GET') {
      const client = await provider.Client.find(clientId);
      ctx.type = 'html';
      ctx.body = `<h1>${client?.clientName ?? clientId}</h1><form method="post" action="/interaction/${details.uid}/login"><input name="account"><button>Sign in</button></form>`;
      return;
    }
    if (m[2] && ctx.method === 'POST') {
      const accountId = (await readForm(ctx.req)).get('account');
      if (!accountId) ctx.throw(400, 'account is required');
      const grant = new provider.Grant({ accountId, clientId });
      if (details.params.scope) grant.addOIDCScope(String(details.params.scope));
      const grantId = await grant.save();
      await provider.interactionFinished(
        ctx.req,
        ctx.res,
        { login: { accountId, amr: ['test'], acr: 'urn:nixa:test' }, consent: { grantId } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    ctx.status = 405;
  };
}

/**
 * A bare provider's configuration as nixa's where it changes the work done:
 * the given clients, PKCE, scopes, TTLs, algorithms, rotation, introspection.
 */
export async function bareConfiguration(shape: ProviderShape, clients: ClientMetadata[]): Promise<Configuration> {
  const { signingAlgs } = shape;
  const cookie = { signed: true, httpOnly: true, sameSite: 'lax' } as const;
  return {
    clients,
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    jwks: { keys: (await Promise.all(signingAlgs.map(signingKey))) as never },
    cookies: { keys: [randomBytes(32).toString('base64url')], long: cookie, short: cookie },
    pkce: { required: () => true },
    responseTypes: ['code'],
    allowOmittingSingleRegisteredRedirectUri: false,
    clientAuthMethods: ['private_key_jwt', 'client_secret_basic', 'none'],
    enabledJWA: {
      clientAuthSigningAlgValues: ASYMMETRIC_ALGS as never,
      idTokenSigningAlgValues: signingAlgs as never,
      userinfoSigningAlgValues: signingAlgs as never,
      introspectionSigningAlgValues: signingAlgs as never,
      authorizationSigningAlgValues: signingAlgs as never,
      requestObjectSigningAlgValues: ASYMMETRIC_ALGS as never,
    },
    scopes: ['openid', 'offline_access', 'profile'],
    claims: { openid: ['sub'], profile: ['name'] },
    ttl: { ...shape.ttl } as never,
    clockTolerance: shape.clockToleranceSeconds,
    rotateRefreshToken: true,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // As nixa's (src/protocol/access-tokens.ts): a client may introspect only its own tokens.
      introspection: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  };
}

/** Serves a provider on 127.0.0.1:port with keep-alive; resolves to its closer. */
export async function listen(provider: Provider, port: number): Promise<() => Promise<void>> {
  const server = createServer(provider.callback());
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
}

export async function startBaselineRole(shape: ProviderShape): Promise<Started> {
  const port = await freeLoopbackPort();
  const origin = `http://127.0.0.1:${port}`;
  const webSecret = randomBytes(32).toString('base64url');
  const serviceSecret = randomBytes(32).toString('base64url');

  const clients: ClientMetadata[] = [
    {
      client_id: WEB_CLIENT.client_id,
      client_secret: webSecret,
      client_name: WEB_CLIENT.name,
      redirect_uris: [...WEB_CLIENT.redirect_uris],
      grant_types: [...WEB_CLIENT.grant_types],
      response_types: ['code'],
      token_endpoint_auth_method: WEB_CLIENT.token_endpoint_auth_method,
      scope: WEB_CLIENT.scope,
    },
    {
      client_id: SERVICE_CLIENT.client_id,
      client_secret: serviceSecret,
      client_name: SERVICE_CLIENT.name,
      redirect_uris: [],
      grant_types: [...SERVICE_CLIENT.grant_types],
      response_types: [],
      token_endpoint_auth_method: SERVICE_CLIENT.token_endpoint_auth_method,
      scope: SERVICE_CLIENT.scope,
    },
  ];
  const provider = new Provider(origin, await bareConfiguration(shape, clients));
  provider.use(testLogin(provider));
  const close = await listen(provider, port);
  const info: TargetInfo = {
    name: 'baseline',
    origin,
    webClient: { clientId: WEB_CLIENT.client_id, secret: webSecret, redirectUri: WEB_CLIENT.redirect_uris[0] },
    serviceClient: { clientId: SERVICE_CLIENT.client_id, secret: serviceSecret },
  };
  return { result: info, close };
}
