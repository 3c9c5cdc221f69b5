// The registry's token endpoint: oidc-provider with the client_credentials grant
// only, and resource indicators (RFC 8707) so that every access token is a JWT
// (RFC 9068) for the registry's API alone: audience = the API URL, scope
// representation.read. A token request without `resource` gets the API anyway.
import { randomBytes } from 'node:crypto';

import Provider, { errors, type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { JWK } from 'jose';
import type { Logger } from 'pino';

import { InvalidInputError } from '../errors/index.js';
import { REGISTRY_SCOPE } from '../registries/contract.js';
import { memoryAdapter, SIGNING_ALG, type MemoryStore } from '../simulated-sources/index.js';

/**
 * A caller of the registry (in practice: nixa), as the operator registers it: with
 * a secret (client_secret_basic or client_secret_post, either accepted) or with
 * its public keys (private_key_jwt), inline or at a URL.
 */
export type SimulatedRegistryClient =
  | { client_id: string; client_secret: string }
  | { client_id: string; jwks_uri: string }
  | { client_id: string; jwks: { keys: JWK[] } };

/** Access tokens live five minutes: long enough to be cached by the caller, short enough to matter. */
export const ACCESS_TOKEN_TTL_SECONDS = 300;

export interface RegistryProviderDeps {
  issuer: string;
  apiUrl: string;
  signingKey: JWK;
  store: MemoryStore;
  logger: Logger;
}

export function buildRegistryProvider({ issuer, apiUrl, signingKey, store, logger }: RegistryProviderDeps): Provider {
  const configuration: Configuration = {
    adapter: memoryAdapter(store),
    // The clients are served from the store (see registerClients), not given as
    // static `clients`: oidc-provider structuredClone()s static ones, which under
    // Jest yields objects of another realm that its own "plain object" check then
    // refuses, so a client with inline jwks could not be tested.

    // Nobody signs in here: there are no accounts and no authorization endpoint use.
    findAccount: () => undefined,
    jwks: { keys: [signingKey as NonNullable<Configuration['jwks']>['keys'][number]] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    scopes: [REGISTRY_SCOPE],
    claims: { openid: ['sub'] },
    clientBasedCORS: () => false,
    ttl: { ClientCredentials: ACCESS_TOKEN_TTL_SECONDS, AccessToken: ACCESS_TOKEN_TTL_SECONDS },
    // As the simulated sources do: the only clients are the developer's own nixa on
    // loopback, so oidc-provider's SSRF guard on jwks_uri fetches is lifted.
    fetch: (url, init) => {
      const { dispatcher: _ssrfGuard, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
      return fetch(url, rest);
    },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => apiUrl,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (resource !== apiUrl) throw new errors.InvalidTarget(`this registry issues tokens for ${apiUrl} only`);
          return {
            scope: REGISTRY_SCOPE,
            audience: apiUrl,
            accessTokenTTL: ACCESS_TOKEN_TTL_SECONDS,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: SIGNING_ALG } },
          };
        },
      },
    },
    renderError: async (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.on('server_error', (ctx: KoaContextWithOIDC, err: Error) => {
    logger.error({ err: { name: err.name, message: err.message, stack: err.stack }, path: ctx.path }, 'simulated registry: server_error');
  });
  provider.on('grant.error', (ctx: KoaContextWithOIDC, err: Error & { error?: string; error_description?: string }) => {
    logger.info({ error: err.error ?? err.name, description: err.error_description, client: ctx.oidc?.client?.clientId }, 'simulated registry: token refused');
  });
  return provider;
}

/** Puts the clients where the provider's adapter finds them (Client:<id> in the store). */
export function registerClients(store: MemoryStore, clients: readonly SimulatedRegistryClient[]): void {
  for (const c of clients) store.set('Client', c.client_id, toClientMetadata(c), undefined);
}

/** Checked at start: each client has exactly one way to authenticate. */
export function checkClients(clients: readonly SimulatedRegistryClient[]): void {
  const ids = new Set<string>();
  for (const [i, c] of clients.entries()) {
    const ways = (['client_secret', 'jwks_uri', 'jwks'] as const).filter((k) => k in c && (c as Record<string, unknown>)[k] !== undefined);
    if (ways.length !== 1) throw new InvalidInputError(`clients[${i}]`, 'give exactly one of client_secret, jwks_uri, jwks');
    if (!c.client_id) throw new InvalidInputError(`clients[${i}].client_id`, 'required');
    if (ids.has(c.client_id)) throw new InvalidInputError(`clients[${i}].client_id`, `${c.client_id} is given twice`);
    ids.add(c.client_id);
  }
}

function toClientMetadata(c: SimulatedRegistryClient): ClientMetadata {
  const common = { client_id: c.client_id, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: REGISTRY_SCOPE };
  if ('client_secret' in c) return { ...common, client_secret: c.client_secret, token_endpoint_auth_method: 'client_secret_basic' };
  if ('jwks_uri' in c) return { ...common, jwks_uri: c.jwks_uri, token_endpoint_auth_method: 'private_key_jwt' };
  // A copy: the caller's keys may change after start.
  const keys = c.jwks.keys.map((k) => {
    const copy: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(k)) copy[name] = Array.isArray(value) ? [...(value as unknown[])] : value;
    return copy;
  });
  return { ...common, jwks: { keys } as ClientMetadata['jwks'], token_endpoint_auth_method: 'private_key_jwt' };
}
