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
