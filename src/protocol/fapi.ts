// The FAPI 2.0 Security Profile for the services registered `fapi2`
// (src/clients/security-profile.ts says who and why), as oidc-provider settings.
//
// Each control stands on its own, so that meeting one never lets a request skip another:
//   PAR       the client's require_pushed_authorization_requests (oidc-provider refuses a
//             front-channel request without request_uri: invalid_request);
//   DPoP      the client's dpop_bound_access_tokens (a token request without a proof is
//             invalid_grant), and a bound token used as a bearer token is refused at
//             userinfo; introspection shows cnf.jkt to the service's API;
//   client    private_key_jwt, assertion aud = the issuer exactly, PS256/ES256/EdDSA only,
//             its jti used once (ReplayDetection, in the store every instance shares);
//   code      lives FAPI_CODE_TTL_SECONDS at most.
import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

import { FAPI_ALGS, FAPI_CODE_TTL_SECONDS, isFapi2 } from '../clients/index.js';

type Features = NonNullable<Configuration['features']>;

/** oidc-provider's own FAPI 2.0 behaviour (redirect_uri always given, request object claims), per client. */
export function fapiFeature(): Features['fapi'] {
  return {
    enabled: true,
    profile: (_ctx: KoaContextWithOIDC, client: unknown) => (isFapi2(client) ? '2.0' : undefined),
  } as Features['fapi'];
}

/**
 * Checks of a client assertion beyond its signature (oidc-provider's hook). For a fapi2
 * service: aud must be the issuer itself (FAPI 2.0 §5.3.2.1; oidc-provider's own check,
 * which this hook replaces), and the algorithm one of FAPI 2.0 §5.4.1's.
 */
export const assertClientAssertion: NonNullable<Configuration['assertJwtClientAuthClaimsAndHeader']> = async (ctx, claims, header, client) => {
  if (!isFapi2(client)) return;
  if (claims.aud !== ctx.oidc.issuer) throw new errors.InvalidClientAuth('audience (aud) must equal the issuer identifier');
  if (!(FAPI_ALGS as readonly string[]).includes(String(header.alg))) {
    throw new errors.InvalidClientAuth(`a fapi2 service signs its assertions with ${FAPI_ALGS.join(', ')}`);
  }
};

/** ttl.AuthorizationCode: a fapi2 service's codes live 60 s at most (FAPI 2.0 §5.3.2.2), others' as configured. */
export function authorizationCodeTtl(configured: number) {
  return (_ctx: unknown, _code: unknown, client: unknown) => (isFapi2(client) ? Math.min(configured, FAPI_CODE_TTL_SECONDS) : configured);
}

/**
 * Whether a refresh rotates the token. FAPI 2.0 §5.3.2.1 forbids rotation for its
 * confidential clients (a lost answer would strand the service; the token is bound to
 * the client's key by private_key_jwt): a fapi2 service keeps its refresh token, unless
 * `mustRotate` (a token acting for an organisation carries what the registry said anew).
 */
export function fapiRotation(rotate: (ctx: KoaContextWithOIDC) => Promise<boolean>) {
  return async (ctx: KoaContextWithOIDC): Promise<boolean> => {
    const decided = await rotate(ctx);
    if (!isFapi2(ctx.oidc.client)) return decided;
    const rt = ctx.oidc.entities.RefreshToken as { rar?: unknown[] } | undefined;
    return decided && Boolean(rt?.rar?.length);
  };
}
