// Access tokens a service's own API can check: RFC 8707 resource indicators for
// the one API each service registers (`api_resource`), RFC 9068 JWT access tokens
// for it carrying how the citizen signed in (acr, amr, auth_time), and RFC 7662
// introspection of the opaque tokens, which says the same.
//
//   authorization request   resource=<the service's api_resource>   anything else → invalid_target
//   token request           the granted resource is used when none is given again
//   no resource at all      an opaque access token for userinfo, as before
//
// Machines (client_credentials) get JWT access tokens too, for nixa's admin API
// unless they name their own API; machine-tokens.ts says why and how they are revoked.
import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

import { ADMIN_SCOPES, adminResource } from '../admin/roles.js';
import type { KeySnapshot } from '../keys/index.js';
import { checkMachineToken, claimsOf, isMachineToken } from './machine-tokens.js';

type ResourceIndicators = NonNullable<NonNullable<Configuration['features']>['resourceIndicators']>;
type AllowedPolicy = NonNullable<NonNullable<NonNullable<Configuration['features']>['introspection']>['allowedPolicy']>;

/** The sign-in behind a token, as oidc-provider keeps it on codes and refresh tokens. */
interface Authentication {
  acr?: string | undefined;
  amr?: string[] | undefined;
  authTime?: number | undefined;
}

/** RFC 9068 §2.2.1 / RFC 7662: the authentication claims of a token issued from `source`. */
export function authenticationClaims(source: Authentication | undefined): Record<string, unknown> | undefined {
  if (!source) return undefined;
  const claims: Record<string, unknown> = {};
  if (source.acr !== undefined) claims.acr = source.acr;
  if (source.amr !== undefined) claims.amr = source.amr;
  if (source.authTime !== undefined) claims.auth_time = source.authTime;
  return Object.keys(claims).length ? claims : undefined;
}

/**
 * What an access token was issued from. The code and the refresh token hold the
 * acr/amr/auth_time of the session when the code was issued — after a step-up,
 * the raised ones — and a rotated refresh token copies them, so tokens from a
 * refresh keep the original sign-in's values. (The session itself may have been
 * raised since, for another service; that must not leak into this grant's tokens.)
 */
function tokenSource(ctx: KoaContextWithOIDC | undefined): Authentication | undefined {
  if (ctx?.oidc?.route !== 'token') return undefined;
  const { entities, params } = ctx.oidc;
  switch (params?.grant_type) {
    case 'authorization_code':
      return entities.AuthorizationCode as Authentication | undefined;
    case 'refresh_token':
      return entities.RefreshToken as Authentication | undefined;
    default:
      // client_credentials: no citizen, no authentication to state.
      return undefined;
  }
}

/** extraTokenClaims: stored with opaque tokens (introspection shows them) and put in JWT access tokens. */
export const extraTokenClaims: NonNullable<Configuration['extraTokenClaims']> = (ctx, token) =>
  token.kind === 'AccessToken' ? authenticationClaims(tokenSource(ctx)) : undefined;

const isClientCredentials = (ctx: KoaContextWithOIDC | undefined) => ctx?.oidc?.route === 'token' && ctx.oidc.params?.grant_type === 'client_credentials';

export interface AccessTokenSettings {
  issuer: string;
  /** Seconds, for tokens of a citizen's grant (ttl.AccessToken). */
  accessTokenTTL: number;
  /** Seconds, for machines' tokens (ttl.ClientCredentials). */
  clientCredentialsTTL: number;
  /** The algorithm of tokens for the admin API: nixa alone verifies them, so its first choice (ES256 by default, far cheaper to sign than RS256). */
  adminApiAlg: string;
}

export function resourceIndicators({ issuer, accessTokenTTL, clientCredentialsTTL, adminApiAlg }: AccessTokenSettings): ResourceIndicators {
  const adminApi = adminResource(issuer);
  return {
    enabled: true,
    // No resource asked: the plain OpenID Connect flow, an opaque token for userinfo;
    // a machine's token is for the admin API (machine-tokens.ts says why).
    // A Rich Authorization Request (nixa_representation) is about the service's API: its
    // token is for that API (oidc-provider wants a resource with RAR), named or not.
    defaultResource: (ctx, client, oneOf) => {
      if (isClientCredentials(ctx)) return adminApi;
      const asksDetails = (ctx.oidc.params as { authorization_details?: unknown } | undefined)?.authorization_details !== undefined;
      return oneOf ?? (asksDetails ? (client as unknown as { api_resource?: string }).api_resource : undefined);
    },
    // A service that asked for its API at authorization gets a token for it without naming it again.
    useGrantedResource: () => true,
    getResourceServerInfo: (ctx, indicator, client) => {
      if (isClientCredentials(ctx) && indicator === adminApi) {
        // Only admin scopes reach the admin API; which of them the client may ask
        // for is its registered scope (oidc-provider checks it).
        const jwt = { sign: { alg: adminApiAlg as 'ES256' } };
        return { scope: ADMIN_SCOPES.join(' '), audience: adminApi, accessTokenFormat: 'jwt', accessTokenTTL: clientCredentialsTTL, jwt };
      }
      // Signed as the service's ID tokens are, so it already accepts the algorithm.
      const jwt = { sign: { alg: (client.idTokenSignedResponseAlg ?? 'RS256') as 'RS256' } };
      // Only the service that registered the API may obtain tokens for it; compared
      // exactly, as redirect URIs are.
      const own = (client as unknown as { api_resource?: string }).api_resource;
      if (!own) throw new errors.InvalidTarget('this service has no API registered with nixa');
      if (indicator !== own) throw new errors.InvalidTarget('resource is not the API registered for this service');
      return {
        // nixa's scopes are about the citizen's attributes, not about the API; the
        // API decides from aud, sub and the level (acr) what the token may do.
        scope: '',
        audience: own,
        accessTokenFormat: 'jwt',
        accessTokenTTL: isClientCredentials(ctx) ? clientCredentialsTTL : accessTokenTTL,
        jwt,
      };
    },
  };
}

/**
 * RFC 7662 §4: a service may introspect only tokens issued to it. Another service
 * would learn whether the citizen is signed in there, at what level, and that
 * service's pairwise sub — exactly the correlation nixa prevents. Each API belongs
 * to one service (api_resource), so the owner is the only party that needs to ask.
 */
export const introspectionAllowedPolicy: AllowedPolicy = (_ctx, client, token) => token.clientId === client.clientId;

/**
 * Refresh tokens keep acr/amr/auth_time as their own fields, not as extra claims,
 * so oidc-provider's introspection answer leaves them out; this adds them, so
 * that every introspection answer about a citizen's token states the level.
 */
export async function introspectionAuthentication(ctx: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<void> {
  await next();
  if (ctx.oidc?.route !== 'introspection') return;
  const body = ctx.body as Record<string, unknown> | undefined;
  const refreshToken = ctx.oidc.entities.RefreshToken as Authentication | undefined;
  if (body?.active === true && body.token_type === undefined && refreshToken) Object.assign(body, authenticationClaims(refreshToken));
}

/**
 * RFC 7662 for machine tokens. oidc-provider refuses every JWT at introspection
 * (unsupported_token_type, shared/reject_structured_tokens.js) once the caller has
 * authenticated; for a token shaped as a machine's, nixa answers instead, as it
 * did when they were opaque: active only when nixa's published keys verify it,
 * it has not expired, and it was issued to the caller (the rule of
 * introspectionAllowedPolicy), whose scope now bounds the scopes stated. A
 * citizen's JWT access token is still left to nixa/verify.
 */
export function machineTokenIntrospection({ keys, ...o }: { issuer: string; keys: KeySnapshot; clockToleranceSeconds: number }) {
  // The keys this provider signs and verifies with (active and retired), not the
  // next ones, which have signed nothing. A revoked key is not among them: its
  // revocation changes them, and the provider is rebuilt.
  const signers = new Set(keys.providerJwks.map((k) => k.kid));
  const jwks = { keys: keys.publicJwks.keys.filter((k) => signers.has(k.kid)) };
  return async function introspectMachineToken(ctx: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<void> {
    await next();
    if (ctx.oidc?.route !== 'introspection' || ctx.status !== 400) return;
    if ((ctx.body as { error?: unknown } | undefined)?.error !== 'unsupported_token_type') return;
    const caller = ctx.oidc.client;
    const token = (ctx.oidc.params as { token?: unknown } | undefined)?.token;
    if (!caller || typeof token !== 'string') return;
    const claims = claimsOf(token);
    if (!claims || !isMachineToken(claims)) return;
    const checked = await checkMachineToken(token, {
      ...o,
      jwks,
      // The caller authenticated just now, so it is enabled; any other client's token is not for it to see.
      findClient: async (clientId) => (clientId === caller.clientId ? caller : undefined),
    });
    ctx.status = 200;
    if (!checked.ok) {
      ctx.body = { active: false };
      return;
    }
    const { payload, scopes } = checked.token;
    ctx.body = {
      active: true,
      client_id: payload.client_id,
      sub: payload.sub,
      scope: scopes.length ? scopes.join(' ') : undefined,
      aud: payload.aud,
      iss: payload.iss,
      exp: payload.exp,
      iat: payload.iat,
      jti: payload.jti,
      token_type: 'Bearer',
    };
  };
}
