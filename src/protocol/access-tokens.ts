// Access tokens a service's own API can check: RFC 8707 resource indicators for
// the one API each service registers (`api_resource`), RFC 9068 JWT access tokens
// for it carrying how the citizen signed in (acr, amr, auth_time), and RFC 7662
// introspection of the opaque tokens, which says the same.
//
//   authorization request   resource=<the service's api_resource>   anything else → invalid_target
//   token request           the granted resource is used when none is given again
//   no resource at all      an opaque access token for userinfo, as before
import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

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

export function resourceIndicators(accessTokenTTL: number): ResourceIndicators {
  return {
    enabled: true,
    // No resource asked: the plain OpenID Connect flow, an opaque token for userinfo.
    defaultResource: (_ctx, _client, oneOf) => oneOf,
    // A service that asked for its API at authorization gets a token for it without naming it again.
    useGrantedResource: () => true,
    getResourceServerInfo: (_ctx, indicator, client) => {
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
        accessTokenTTL,
        // Signed as the service's ID tokens are, so it already accepts the algorithm.
        jwt: { sign: { alg: (client.idTokenSignedResponseAlg ?? 'RS256') as 'RS256' } },
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
