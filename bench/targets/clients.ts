// The relying parties both providers are given, so that both do the same work.

/** Never contacted: the driver stops at the redirect and reads the code from the URL. */
export const REDIRECT_URI = 'http://127.0.0.1/bench/callback';

export const WEB_CLIENT = {
  client_id: 'bench-web',
  name: 'Benchmark web service',
  redirect_uris: [REDIRECT_URI],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid offline_access',
  token_endpoint_auth_method: 'client_secret_basic',
} as const;

export const SERVICE_CLIENT = {
  client_id: 'bench-service',
  name: 'Benchmark back-end service',
  grant_types: ['client_credentials'],
  scope: 'openid',
  token_endpoint_auth_method: 'client_secret_basic',
} as const;

/**
 * nixa only: the service of the federated sign-in. It asks for the profile
 * attributes, which nixa shares only with the citizen's consent (asked once,
 * then remembered); the baseline has no upstream to sign in through.
 */
export const FEDERATED_CLIENT = {
  client_id: 'bench-federated',
  name: 'Benchmark federated service',
  redirect_uris: [REDIRECT_URI],
  grant_types: ['authorization_code'],
  scope: 'openid profile',
  token_endpoint_auth_method: 'client_secret_basic',
} as const;

/**
 * nixa only: the FAPI 2.0 service of fapi2_sign_in (issue 15), registered `fapi2`
 * without a minimum level, so that its citizens sign in with the same test login as
 * the web client's and only the profile's controls differ: pushed authorization
 * requests, DPoP-bound tokens, private_key_jwt (its public key is added at
 * registration, the run's own). The profile gives it an ES256 ID token, where the
 * web client keeps the OpenID Connect default RS256.
 */
export const FAPI2_CLIENT = {
  client_id: 'bench-fapi2',
  name: 'Benchmark FAPI 2.0 service',
  redirect_uris: [REDIRECT_URI],
  grant_types: ['authorization_code'],
  scope: 'openid',
  security_profile: 'fapi2',
  token_endpoint_auth_method: 'private_key_jwt',
} as const;

/** The FAPI 2.0 service's registration, with the public half of the run's key. */
export const fapi2Registration = (publicJwk: Record<string, unknown>) => ({ ...FAPI2_CLIENT, jwks: { keys: [publicJwk] } });
