// A real relying party (openid-client v6) registered on a test nixa, and a helper
// that walks a sign-in through the test login to the redirect URI.
import * as oidc from 'openid-client';

import { addClient, type ClientsOptions } from '../../src/clients/index.js';
import type { Database } from '../../src/storage/index.js';
import { UserAgent } from './user-agent.js';

export interface TestClient {
  clientId: string;
  secret?: string;
  redirectUri: string;
}

let counter = 0;

export async function registerTestClient(
  db: Database,
  overrides: Record<string, unknown> = {},
  options: ClientsOptions = { allowHttpLoopback: true, signingAlgs: ['ES256', 'RS256'] },
): Promise<TestClient> {
  counter += 1;
  // The first redirect URI the test gave, or one of its own on a port no other test client uses.
  const redirectUri = (overrides.redirect_uris as string[] | undefined)?.[0] ?? `http://localhost:${9000 + counter}/callback`;
  const { client, secret } = await addClient(
    db,
    {
      client_id: `test-service-${process.pid}-${counter}`,
      name: 'Cổng dịch vụ công thử nghiệm',
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [`http://localhost:${9000 + counter}/`],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid offline_access',
      // Public subjects, so that tests can name the test account they expect; pairwise is tested on its own.
      subject_type: 'public',
      ...overrides,
    },
    'test',
    options,
  );
  return secret ? { clientId: client.clientId, secret, redirectUri } : { clientId: client.clientId, redirectUri };
}

export async function discover(issuer: string, c: TestClient): Promise<oidc.Configuration> {
  return oidc.discovery(
    new URL(issuer),
    c.clientId,
    undefined,
    c.secret ? oidc.ClientSecretBasic(c.secret) : oidc.None(),
    { execute: [oidc.allowInsecureRequests] },
  );
}

export interface SignIn {
  callbackUrl: URL;
  verifier: string;
  state: string;
  nonce: string;
  agent: UserAgent;
  /** Whether nixa showed the login page (false when single sign-on applied). */
  sawLoginPage: boolean;
}

/** Starts at the authorization endpoint, signs in with the test login, stops at the redirect URI. */
export async function signIn(
  config: oidc.Configuration,
  c: TestClient,
  opts: {
    account?: string;
    agent?: UserAgent;
    scope?: string;
    extra?: Record<string, string>;
    /** How the service sends the browser: by default the plain front-channel URL; a FAPI service pushes it first (PAR). */
    authorize?: (params: Record<string, string>) => Promise<URL> | URL;
  } = {},
): Promise<SignIn> {
  const agent = opts.agent ?? new UserAgent();
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = await (opts.authorize ?? ((p) => oidc.buildAuthorizationUrl(config, p)))({
    redirect_uri: c.redirectUri,
    scope: opts.scope ?? 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...opts.extra,
  });
  let step = await agent.follow(url, {}, c.redirectUri);
  const sawLoginPage = !step.stoppedAt;
  if (!step.stoppedAt) {
    // The login page: submit the test login form.
    const html = await step.res.text();
    const action = /action="(\/interaction\/[^"]+\/login)"/.exec(html)?.[1];
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
    if (!action || !csrf) throw new Error(`expected the test login page, got ${step.res.status}: ${html.slice(0, 300)}`);
    step = await agent.submit(new URL(action, step.url), { account: opts.account ?? 'test-citizen-1', csrf }, c.redirectUri);
  }
  if (!step.stoppedAt) throw new Error(`sign-in did not reach the redirect URI (${step.res.status} at ${step.url})`);
  return { callbackUrl: new URL(step.stoppedAt), verifier, state, nonce, agent, sawLoginPage };
}

export function redeem(config: oidc.Configuration, s: SignIn) {
  return oidc.authorizationCodeGrant(config, s.callbackUrl, {
    pkceCodeVerifier: s.verifier,
    expectedState: s.state,
    expectedNonce: s.nonce,
  });
}

/**
 * Where a service sends a browser to sign in: the code flow with PKCE (S256), a
 * state and a nonce, for openid profile; `extra` adds or overrides parameters.
 * For tests that walk nixa's pages and never redeem the code (the verifier is
 * thrown away; a test that redeems builds its own request).
 */
export async function authorizationUrl(config: oidc.Configuration, c: TestClient, extra: Record<string, string> = {}): Promise<string> {
  return oidc
    .buildAuthorizationUrl(config, {
      redirect_uri: c.redirectUri,
      scope: 'openid profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      ...extra,
    })
    .toString();
}
