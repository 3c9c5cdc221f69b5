// Hostile and malformed authorization requests: each gets the standard error,
// never a redirect to an unregistered place, and leaves nothing stored.
import * as oidc from 'openid-client';

import type { Nixa } from '../../src/app/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestNixa } from '../support/nixa.js';
import { registerTestClient, type TestClient } from '../support/relying-party.js';

let tdb: TestDatabase;
let nixa: Nixa;
let publicClient: TestClient;
let confidential: TestClient;

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db);
  publicClient = await registerTestClient(tdb.db, { token_endpoint_auth_method: 'none' });
  confidential = await registerTestClient(tdb.db);
});

afterAll(async () => {
  await nixa?.close();
  await tdb?.drop();
});

const challenge = () => oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier());

async function authorize(params: Record<string, string>) {
  const url = new URL(`${nixa.config.issuer}/auth`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return fetch(url, { redirect: 'manual', headers: { accept: 'text/html' } });
}

async function storedRows(): Promise<number> {
  const { rows } = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM oidc_payloads');
  return rows[0]!.n;
}

describe('bad authorization requests', () => {
  it('shows an error page, without redirecting, for an unknown client', async () => {
    const before = await storedRows();
    const res = await authorize({
      client_id: 'khong-ton-tai',
      redirect_uri: 'https://attacker.example/cb',
      response_type: 'code',
      scope: 'openid',
      code_challenge: await challenge(),
      code_challenge_method: 'S256',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    const html = await res.text();
    expect(html).toContain('invalid_client');
    expect(html).toContain('lang="vi"');
    expect(html).not.toContain('attacker.example');
    expect(await storedRows()).toBe(before);
  });

  it.each([
    ['a different host', 'https://attacker.example/callback'],
    ['an extra path segment', '/callback/extra'],
    ['a query string', '/callback?next=/admin'],
    ['a trailing slash', '/callback/'],
    ['another port', ':1/callback'],
  ])('refuses a redirect URI that differs by %s, without redirecting to it', async (_, variant) => {
    const registered = new URL(confidential.redirectUri);
    const redirect = variant.startsWith('https://')
      ? variant
      : variant.startsWith(':')
        ? `${registered.protocol}//${registered.hostname}${variant}`
        : `${registered.origin}${variant}`;
    const before = await storedRows();
    const res = await authorize({
      client_id: confidential.clientId,
      redirect_uri: redirect,
      response_type: 'code',
      scope: 'openid',
      code_challenge: await challenge(),
      code_challenge_method: 'S256',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('invalid_redirect_uri');
    expect(await storedRows()).toBe(before);
  });

  it('refuses an authorization request without redirect_uri even when the client has only one', async () => {
    const res = await authorize({ client_id: confidential.clientId, response_type: 'code', scope: 'openid', code_challenge: await challenge(), code_challenge_method: 'S256' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });

  it.each([
    ['a public client', () => publicClient],
    ['a confidential client', () => confidential],
  ])('requires PKCE from %s, answering at the registered redirect URI', async (_, client) => {
    const c = client();
    const before = await storedRows();
    const res = await authorize({ client_id: c.clientId, redirect_uri: c.redirectUri, response_type: 'code', scope: 'openid', state: 'xyz' });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(c.redirectUri);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toMatch(/PKCE/);
    expect(location.searchParams.get('state')).toBe('xyz');
    expect(await storedRows()).toBe(before);
  });

  it('refuses the plain PKCE method', async () => {
    const res = await authorize({
      client_id: publicClient.clientId,
      redirect_uri: publicClient.redirectUri,
      response_type: 'code',
      scope: 'openid',
      code_challenge: 'a'.repeat(43),
      code_challenge_method: 'plain',
    });
    const location = new URL(res.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
  });

  it('refuses response types other than code (no implicit flow)', async () => {
    const res = await authorize({
      client_id: publicClient.clientId,
      redirect_uri: publicClient.redirectUri,
      response_type: 'id_token token',
      scope: 'openid',
      nonce: 'n',
      code_challenge: await challenge(),
      code_challenge_method: 'S256',
    });
    const location = new URL(res.headers.get('location')!, nixa.config.issuer);
    const error = location.searchParams.get('error') ?? new URLSearchParams(location.hash.slice(1)).get('error');
    expect(error).toBe('unsupported_response_type');
  });

  it('refuses a scope the client is not registered for', async () => {
    const narrow = await registerTestClient(tdb.db, { token_endpoint_auth_method: 'none', scope: 'openid', grant_types: ['authorization_code', 'refresh_token'] });
    const res = await authorize({
      client_id: narrow.clientId,
      redirect_uri: narrow.redirectUri,
      response_type: 'code',
      scope: 'openid offline_access',
      prompt: 'consent',
      code_challenge: await challenge(),
      code_challenge_method: 'S256',
    });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(narrow.redirectUri);
    expect(location.searchParams.get('error')).toBe('invalid_scope');
  });
});

describe('bad token requests', () => {
  it('answers invalid_grant for a made-up code, with nothing stored', async () => {
    const before = await storedRows();
    const res = await fetch(`${nixa.config.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${confidential.clientId}:${confidential.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'bịa-đặt', redirect_uri: confidential.redirectUri, code_verifier: 'x'.repeat(43) }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
    expect(await storedRows()).toBe(before);
  });

  it('answers invalid_request for a malformed body', async () => {
    const res = await fetch(`${nixa.config.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"grant_type":',
    });
    expect(res.status).toBe(400);
    expect((await res.json()) as { error: string }).toHaveProperty('error');
  });
});
