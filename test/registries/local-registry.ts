// A small organisation registry started inside a test: oidc-provider as its token
// server (client_credentials only) and a Koa route speaking the contract
// (src/registries/contract.ts), each on its own loopback port, with switches to
// misbehave. A stand-in until tests move to src/simulated-registry.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type RequestListener, type Server } from 'node:http';

import { exportJWK, type JWK } from 'jose';
import Koa from 'koa';
import Provider, { type ClientMetadata, type Configuration } from 'oidc-provider';

import { memoryAdapter, MemoryStore } from '../../src/simulated-sources/memory-adapter.js';
import { REGISTRY_SCOPE, REPRESENTATIONS_PATH, type Organisation } from '../../src/registries/index.js';

/**
 * ok: the contract. slow: answers after `slowMs`. unavailable: 503. wrong-shape: 200
 * with a status the contract does not know, echoing the number asked. not-json:
 * 200 text. redirect: 302 elsewhere. all-for-recheck: ignores enterprise_code.
 */
export type ApiMode = 'ok' | 'slow' | 'unavailable' | 'wrong-shape' | 'not-json' | 'redirect' | 'all-for-recheck';

export interface LocalRegistry {
  issuer: string;
  apiUrl: string;
  mode: ApiMode;
  slowMs: number;
  /** Delay before the token endpoint answers. */
  tokenDelayMs: number;
  /** POSTs to the token endpoint. */
  tokenRequests: number;
  /** Bodies of representation calls that carried a valid token. */
  calls: Record<string, unknown>[];
  /** Representation calls refused for their token. */
  refusedCalls: number;
  /** Revokes every token issued so far (the registry forgets them, as after a restart). */
  forgetTokens(): void;
  close(): Promise<void>;
}

export const CLIENT_SECRET = 'bi-mat-dang-ky-kinh-doanh-2026';

/** A P-256 key pair as nixa's key ring gives it (private JWK with alg and kid, no key_ops) and its public half. */
export async function signingKeyPair(): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = randomBytes(6).toString('base64url');
  return {
    privateJwk: { ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid },
    publicJwk: { ...(await exportJWK(publicKey)), alg: 'ES256', use: 'sig', kid },
  };
}

function listen(handler: () => RequestListener): Promise<Server> {
  return new Promise((resolve) => {
    // The handler is read per request: the token server's issuer names its port, so the provider comes after.
    const server = createServer((req, res) => void handler()(req, res));
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const url = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;

export async function startLocalRegistry(opts: {
  organisations: Record<string, Organisation[]>;
  /** nixa's public signing key, for the private_key_jwt client "nixa-pkj". */
  nixaPublicJwk?: JWK;
  tokenTtlSeconds?: number;
}): Promise<LocalRegistry> {
  const { privateJwk } = await signingKeyPair();
  // Both servers listen first: the issuer and nixa's jwks_uri name their ports.
  let tokenHandler: RequestListener = (_req, res) => res.end();
  let apiHandler: RequestListener = (_req, res) => res.end();
  const [tokenServer, apiServer] = await Promise.all([listen(() => tokenHandler), listen(() => apiHandler)]);
  const issuer = url(tokenServer);
  const clients: ClientMetadata[] = [
    { client_id: 'nixa', client_secret: CLIENT_SECRET, token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope: REGISTRY_SCOPE },
    { client_id: 'nixa-post', client_secret: CLIENT_SECRET, token_endpoint_auth_method: 'client_secret_post', grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope: REGISTRY_SCOPE },
    ...(opts.nixaPublicJwk
      ? [{ client_id: 'nixa-pkj', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256', jwks_uri: `${url(apiServer)}/nixa/jwks`, grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope: REGISTRY_SCOPE } as ClientMetadata]
      : []),
  ];
  const configuration: Configuration = {
    clients,
    jwks: { keys: [privateJwk as NonNullable<Configuration['jwks']>['keys'][number]] },
    scopes: [REGISTRY_SCOPE],
    clientDefaults: { id_token_signed_response_alg: 'ES256', grant_types: ['client_credentials'], response_types: [] },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
    ttl: { ClientCredentials: opts.tokenTtlSeconds ?? 600 },
    adapter: memoryAdapter(new MemoryStore()),
    // nixa's public key is fetched from the API server's /nixa/jwks (as a registry fetches nixa's /jwks):
    // an inline jwks built here would fail oidc-provider's plain-object check across jest's module realms.
    // Its SSRF guard refuses loopback addresses; this registry only ever talks to the test's nixa.
    fetch: (url, init) => {
      const { dispatcher: _ssrfGuard, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      return fetch(url, rest);
    },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
  };
  const provider = new Provider(issuer, configuration);

  const state: LocalRegistry = {
    issuer,
    apiUrl: url(apiServer),
    mode: 'ok',
    slowMs: 2_000,
    tokenDelayMs: 0,
    tokenRequests: 0,
    calls: [],
    refusedCalls: 0,
    forgetTokens: () => seen.forEach((t) => forgotten.add(t)),
    close: async () => {
      await Promise.all([tokenServer, apiServer].map((s) => new Promise<void>((resolve) => { s.closeAllConnections(); s.close(() => resolve()); })));
    },
  };
  const seen = new Set<string>();
  const forgotten = new Set<string>();

  provider.use(async (ctx, next) => {
    if (ctx.method === 'POST' && ctx.path === '/token') {
      state.tokenRequests += 1;
      if (state.tokenDelayMs) await new Promise((r) => setTimeout(r, state.tokenDelayMs));
    }
    await next();
  });
  tokenHandler = provider.callback() as RequestListener;

  const apiApp = new Koa();
  apiApp.use(async (ctx) => {
    if (ctx.method === 'GET' && ctx.path === '/nixa/jwks' && opts.nixaPublicJwk) {
      ctx.body = { keys: [opts.nixaPublicJwk] };
      return;
    }
    if (ctx.method !== 'POST' || ctx.path !== REPRESENTATIONS_PATH) {
      ctx.status = 404;
      return;
    }
    const bearer = /^Bearer (.+)$/.exec(ctx.get('authorization'))?.[1];
    const token = bearer ? await provider.ClientCredentials.find(bearer) : undefined;
    if (bearer) seen.add(bearer);
    if (!token || forgotten.has(bearer!) || !String(token.scope ?? '').split(' ').includes(REGISTRY_SCOPE)) {
      state.refusedCalls += 1;
      ctx.status = 401;
      ctx.set('www-authenticate', 'Bearer error="invalid_token"');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of ctx.req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { national_id: string; enterprise_code?: string };
    state.calls.push(body);
    const all = opts.organisations[body.national_id] ?? [];
    const organisations = body.enterprise_code && state.mode !== 'all-for-recheck' ? all.filter((o) => o.enterprise_code === body.enterprise_code) : all;
    switch (state.mode) {
      case 'slow':
        await new Promise((r) => setTimeout(r, state.slowMs));
        break;
      case 'unavailable':
        ctx.status = 503;
        ctx.body = { error: `registry maintenance, cannot look up ${body.national_id}` };
        return;
      case 'wrong-shape':
        ctx.body = { checked_at: new Date().toISOString(), national_id: body.national_id, organisations: organisations.map((o) => ({ ...o, status: 'closed', note: `for ${body.national_id}` })) };
        return;
      case 'not-json':
        ctx.type = 'text/plain';
        ctx.body = `OK ${body.national_id}`;
        return;
      case 'redirect':
        ctx.redirect(`https://elsewhere.example.vn/v1/representations?national_id=${body.national_id}`);
        return;
      default:
    }
    ctx.body = { checked_at: new Date().toISOString(), organisations };
  });
  apiHandler = apiApp.callback() as RequestListener;
  return state;
}
