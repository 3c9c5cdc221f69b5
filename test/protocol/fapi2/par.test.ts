// Control: pushed authorization requests (RFC 9126).
// FAPI 2.0 Security Profile (Final) §5.3.2.2 — the authorization server "shall require
// PAR": it rejects authorization requests sent without it, requires client
// authentication at the PAR endpoint, and issues request_uri values with expires_in
// between 5 and 600 seconds (nixa: 60), each usable once. Every other control is met
// in these tests (private_key_jwt, DPoP, PKCE), so only PAR is under test.
import * as oidc from 'openid-client';

import type { Nixa } from '../../../src/app/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { clientAssertion, dpopHandle, fapiConfig, JWT_BEARER, pushed, registerFapiClient, type FapiClient } from '../../support/fapi.js';
import { startTestNixa } from '../../support/nixa.js';
import { discover, registerTestClient, signIn } from '../../support/relying-party.js';
import { UserAgent } from '../../support/user-agent.js';

let tdb: TestDatabase;
let nixa: Nixa;
let service: FapiClient;
let other: FapiClient;
let config: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db);
  service = await registerFapiClient(tdb.db, { min_level: undefined, security_profile: 'fapi2' });
  other = await registerFapiClient(tdb.db, { min_level: undefined, security_profile: 'fapi2' });
  config = await fapiConfig(nixa.config.issuer, service);
});

afterAll(async () => {
  await nixa?.close();
  await tdb?.drop();
});

async function params(): Promise<Record<string, string>> {
  return {
    client_id: service.clientId,
    response_type: 'code',
    redirect_uri: service.redirectUri,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    state: oidc.randomState(),
    nonce: oidc.randomNonce(),
  };
}

/** Where nixa sends the browser for this authorization URL: the redirect URI with an error, or an error page. */
async function answerTo(url: URL | string, agent = new UserAgent()): Promise<{ error?: string | null; description?: string | null; page?: string }> {
  const step = await agent.follow(new URL(url), {}, service.redirectUri);
  if (step.stoppedAt) {
    const back = new URL(step.stoppedAt);
    return { error: back.searchParams.get('error'), description: back.searchParams.get('error_description') };
  }
  const page = await step.res.text();
  return { page, error: /<code>([a-z_]+)<\/code>/.exec(page)?.[1] ?? null };
}

describe('PAR required (FAPI 2.0 §5.3.2.2)', () => {
  it('refuses a front-channel authorization request without request_uri, however well formed', async () => {
    const url = new URL(`${nixa.config.issuer}/auth`);
    for (const [k, v] of Object.entries(await params())) url.searchParams.set(k, v);
    const answer = await answerTo(url);
    expect(answer.error).toBe('invalid_request');
    expect(answer.description).toMatch(/pushed authorization request/i);
  });

  it('refuses a front-channel request object (request=) without PAR too', async () => {
    const url = new URL(`${nixa.config.issuer}/auth`);
    url.searchParams.set('client_id', service.clientId);
    url.searchParams.set('request', 'eyJhbGciOiJub25lIn0.e30.');
    expect((await answerTo(url)).error).toBe('invalid_request');
  });

  it('accepts the same request pushed, and the request_uri lives 60 seconds', async () => {
    const res = await fetch(`${nixa.config.issuer}/request`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...(await params()), client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion(service, nixa.config.issuer) }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { request_uri: string; expires_in: number };
    expect(body.request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    expect(body.expires_in).toBeGreaterThanOrEqual(5);
    expect(body.expires_in).toBeLessThanOrEqual(60);
  });

  it('refuses a pushed request without client authentication', async () => {
    const res = await fetch(`${nixa.config.issuer}/request`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(await params()),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('a request_uri works once: used again it is invalid_request_uri', async () => {
    const dpop = await dpopHandle(config);
    let used: URL | undefined;
    const s = await signIn(config, service, {
      authorize: async (p) => {
        used = await pushed(config, dpop)(p);
        return used;
      },
    });
    const tokens = await oidc.authorizationCodeGrant(config, s.callbackUrl, { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce }, undefined, { DPoP: dpop });
    expect(tokens.access_token).toBeTruthy();
    const again = await answerTo(used!);
    // No return address can be trusted from a spent request: the citizen gets nixa's page, in plain words.
    expect(again.error).toBe('invalid_request_uri');
    expect(again.page).toContain('đã được dùng hoặc đã hết hạn');
    // The same browser, still signed in at nixa, fares no better.
    expect((await answerTo(used!, s.agent)).error).toBe('invalid_request_uri');
  });

  it("refuses another service's request_uri", async () => {
    const otherConfig = await fapiConfig(nixa.config.issuer, other);
    const theirs = await oidc.buildAuthorizationUrlWithPAR(otherConfig, { ...(await params()), redirect_uri: other.redirectUri, client_id: other.clientId });
    const url = new URL(`${nixa.config.issuer}/auth`);
    url.searchParams.set('client_id', service.clientId);
    url.searchParams.set('request_uri', theirs.searchParams.get('request_uri')!);
    // The pushed request names the other service (its client_id): not this one's request.
    expect((await answerTo(url)).error).toBe('invalid_request_object');
  });

  it('leaves a standard service free to use the front channel', async () => {
    const plain = await registerTestClient(tdb.db);
    const plainConfig = await discover(nixa.config.issuer, plain);
    const s = await signIn(plainConfig, plain);
    expect(s.callbackUrl.searchParams.get('code')).toBeTruthy();
  });
});
