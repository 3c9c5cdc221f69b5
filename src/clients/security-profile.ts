// A service's security profile: pure policy, no I/O.
//
//   standard  OpenID Connect with PKCE and exact redirect URIs, as every service had.
//   fapi2     the FAPI 2.0 Security Profile (Final): pushed authorization requests
//             only, DPoP-bound tokens, private_key_jwt only, codes living 60 s,
//             signatures with PS256, ES256 or EdDSA.
//
// A service at minimum level substantial or high handles what matters most (health,
// taxes, benefits): it is fapi2 unless an operator keeps it standard with a reason,
// which the registration and the audit trail keep. Each control is enforced on its
// own (one satisfied never excuses another): PAR and DPoP by oidc-provider's client
// metadata below, the authentication method and algorithms by registration and by
// protocol/fapi.ts at every request.
import type { Level } from '../assurance/index.js';

export const SECURITY_PROFILES = ['standard', 'fapi2'] as const;
export type SecurityProfile = (typeof SECURITY_PROFILES)[number];

/** FAPI 2.0 Security Profile §5.4.1: the only signature algorithms a fapi2 service meets or uses. */
export const FAPI_ALGS = ['PS256', 'ES256', 'EdDSA'] as const;

/** FAPI 2.0 Security Profile §5.3.2.2: an authorization code lives at most 60 seconds. */
export const FAPI_CODE_TTL_SECONDS = 60;

const HIGH_LEVELS: readonly (Level | undefined | null)[] = ['substantial', 'high'];

/** The profile a new registration gets when it does not say: fapi2 from substantial up. */
export function defaultProfile(minLevel: Level | undefined | null): SecurityProfile {
  return HIGH_LEVELS.includes(minLevel) ? 'fapi2' : 'standard';
}

/** A standard service at substantial or high is an exception an operator made: it needs their reason. */
export function profileNeedsReason(profile: SecurityProfile, minLevel: Level | undefined | null): boolean {
  return profile === 'standard' && HIGH_LEVELS.includes(minLevel);
}

export function isFapi2(client: unknown): boolean {
  return (client as { security_profile?: unknown } | undefined)?.security_profile === 'fapi2';
}

/** The ID token (and JWT access token) algorithm a fapi2 service gets when it names none: nixa's first FAPI one. */
export function fapiDefaultAlg(signingAlgs: readonly string[]): string | undefined {
  return signingAlgs.find((a) => (FAPI_ALGS as readonly string[]).includes(a));
}

export interface ProfileSubject {
  security_profile: SecurityProfile;
  security_profile_reason?: string | undefined;
  min_level?: Level | undefined;
  token_endpoint_auth_method: string;
  id_token_signed_response_alg?: string | undefined;
  require_signed_request_object?: boolean | undefined;
  jwks?: unknown;
  jwks_uri?: string | undefined;
}

/** What a registration breaks of its profile, each problem naming its field. */
export function profileProblems(c: ProfileSubject): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  if (profileNeedsReason(c.security_profile, c.min_level) && !c.security_profile_reason?.trim()) {
    problems.push({
      path: 'security_profile',
      message: `a service at minimum level ${c.min_level} is fapi2 (FAPI 2.0); keep it standard only with a reason (--reason), or set fapi2`,
    });
  }
  if (c.security_profile === 'fapi2') {
    if (c.token_endpoint_auth_method !== 'private_key_jwt') {
      problems.push({
        path: 'token_endpoint_auth_method',
        message: 'a fapi2 service authenticates with private_key_jwt only (FAPI 2.0 §5.3.2.1: no shared secrets, no public clients)',
      });
    }
    if (c.id_token_signed_response_alg !== undefined && !(FAPI_ALGS as readonly string[]).includes(c.id_token_signed_response_alg)) {
      problems.push({ path: 'id_token_signed_response_alg', message: `a fapi2 service's tokens are signed with ${FAPI_ALGS.join(', ')} (FAPI 2.0 §5.4.1)` });
    }
  }
  if (c.require_signed_request_object && !c.jwks && !c.jwks_uri) {
    problems.push({ path: 'require_signed_request_object', message: "needs the service's public keys to check its request objects: jwks or jwks_uri (with private_key_jwt)" });
  }
  return problems;
}

/**
 * oidc-provider client metadata that enforces the profile. A fapi2 service must push
 * its authorization requests (RFC 9126) and bind its tokens with DPoP (RFC 9449):
 * each is its own flag, checked by oidc-provider on its own.
 */
export function profileMetadata(c: { security_profile: SecurityProfile; require_signed_request_object?: boolean | undefined }, interactive: boolean): Record<string, unknown> {
  const meta: Record<string, unknown> = {};
  if (c.security_profile === 'fapi2') {
    if (interactive) meta.require_pushed_authorization_requests = true;
    meta.dpop_bound_access_tokens = true;
  }
  if (c.require_signed_request_object) meta.require_signed_request_object = true;
  return meta;
}
