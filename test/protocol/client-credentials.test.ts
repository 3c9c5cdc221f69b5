// Machine tokens (client_credentials) are RFC 9068 JWT access tokens: issuing one
// writes no row; nixa's admin API checks their signature against its key ring,
// issuer, audience, expiry and scopes, and reads the client on every call, so a
// disabled client is refused at once; introspection answers for them.
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';

import { adminResource } from '../../src/admin/index.js';
import type { Nixa } from '../../src/app/index.js';
import { addClient, disableClient, updateClient } from '../../src/clients/index.js';
import { revokeKey } from '../../src/keys/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { publishedKids, startTestNixa } from '../support/nixa.js';
import { waitFor } from '../support/wait.js';

const API = 'https://thue.example.gov.vn/api/ho-so';

let tdb: TestDatabase;
let nixa: Nixa;

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db);
});
afterAll(async () => {
  await nixa?.close();
  await tdb?.drop();
});

interface Machine {
  clientId: string;
  secret: string;
}

async function machineClient(clientId: string, scope: string, extra: Record<string, unknown> = {}): Promise<Machine> {
  const { secret } = await addClient(tdb.db, { client_id: clientId, name: 'Đồng bộ hồ sơ thuế', grant_types: ['client_credentials'], scope, ...extra }, 'test', {
    allowHttpLoopback: true,
  });
  return { clientId, secret: secret! };
}

const basic = (m: Machine) => `Basic ${Buffer.from(`${m.clientId}:${m.secret}`).toString('base64')}`;

async function tokenResponse(m: Machine, params: Record<string, string>, n: Nixa = nixa) {
  const res = await fetch(`${n.config.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(m) },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...params }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function tokenFor(m: Machine, params: Record<string, string>, n: Nixa = nixa): Promise<string> {
  const { status, body } = await tokenResponse(m, params, n);
  expect([status, body.error]).toEqual([200, undefined]);
  return body.access_token as string;
}

async function admin(token: string, method = 'GET', path = '/me', n: Nixa = nixa) {
  const res = await fetch(`${n.config.issuer}/admin/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    ...(method === 'POST' ? { body: JSON.stringify({ reason: 'Máy tự xoay khóa' }) } : {}),
  });
  return { status: res.status, challenge: res.headers.get('www-authenticate') ?? '', body: (await res.json()) as Record<string, unknown> };
}

async function introspect(m: Machine, token: string, n: Nixa = nixa) {
  const res = await fetch(`${n.config.issuer}/token/introspection`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(m) },
    body: new URLSearchParams({ token }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function rows(model?: string): Promise<number> {
  const { rows: r } = await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM oidc_payloads WHERE $1::text IS NULL OR model = $1', [model ?? null]);
  return r[0]!.n;
}

async function publishedJwks(n: Nixa = nixa): Promise<{ keys: JWK[] }> {
  return (await (await fetch(`${n.url}/jwks`)).json()) as { keys: JWK[] };
}

/** The token with one character of its signature changed. */
function tampered(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const i = Math.floor(s.length / 2);
  return `${h}.${p}.${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`;
}

describe('issuing', () => {
  it('gives a JWT access token (typ at+jwt) for the admin API that the published JWKS verifies, and writes no row', async () => {
    const m = await machineClient('dong-bo-thue', 'admin:keys:read admin:audit:read');
    const [machineRows, allRows] = [await rows('ClientCredentials'), await rows()];
    const { body } = await tokenResponse(m, { scope: 'admin:keys:read admin:audit:read' });
    for (let i = 0; i < 3; i++) await tokenFor(m, { scope: 'admin:audit:read' });
    expect([await rows('ClientCredentials'), await rows()]).toEqual([machineRows, allRows]);

    const token = body.access_token as string;
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'admin:keys:read admin:audit:read' });
    // nixa alone verifies tokens for its admin API: its first algorithm, ES256 by default.
    expect(decodeProtectedHeader(token)).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    const { payload } = await jwtVerify(token, createLocalJWKSet(await publishedJwks()), {
      issuer: nixa.config.issuer,
      audience: adminResource(nixa.config.issuer),
      typ: 'at+jwt',
    });
    // RFC 9068 §2.2: no resource owner, so the client is the subject.
    expect(payload).toMatchObject({ sub: m.clientId, client_id: m.clientId, scope: 'admin:keys:read admin:audit:read' });
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(payload).not.toHaveProperty('acr');
  });

  it('keeps scopes that are not admin scopes out of a token for the admin API', async () => {
    const m = await machineClient('bao-cao-thue', 'openid admin:audit:read');
    const { body } = await tokenResponse(m, { scope: 'openid admin:audit:read' });
    expect(body.scope).toBe('admin:audit:read');
    expect(decodeJwt(body.access_token as string).scope).toBe('admin:audit:read');
  });

  it("gives a token for the client's own API, with no admin scope, when it names it, and refuses any other resource", async () => {
    const m = await machineClient('dong-bo-api', 'admin:audit:read', { api_resource: API });
    const token = await tokenFor(m, { resource: API, scope: 'admin:audit:read' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ aud: API, sub: m.clientId, client_id: m.clientId });
    // The service's API verifies it: its ID token algorithm, RS256 by default.
    expect(decodeProtectedHeader(token).alg).toBe('RS256');
    expect(claims).not.toHaveProperty('scope');

    const other = await tokenResponse(m, { resource: 'https://khac.example.gov.vn/api' });
    expect([other.status, other.body.error]).toEqual([400, 'invalid_target']);
    const noApi = await machineClient('khong-co-api', 'admin:audit:read');
    expect((await tokenResponse(noApi, { resource: API })).body.error).toBe('invalid_target');
  });

  it('can be named explicitly as the admin API resource', async () => {
    const m = await machineClient('ro-rang', 'admin:keys:read');
    const token = await tokenFor(m, { resource: adminResource(nixa.config.issuer), scope: 'admin:keys:read' });
    expect(decodeJwt(token)).toMatchObject({ aud: adminResource(nixa.config.issuer), scope: 'admin:keys:read' });
    expect((await admin(token, 'GET', '/keys')).status).toBe(200);
  });
});

describe('the admin API', () => {
  it('accepts a machine token for the permissions its scopes name, and no others', async () => {
    const m = await machineClient('giam-sat', 'admin:keys:read admin:audit:read');
    const token = await tokenFor(m, { scope: 'admin:keys:read admin:audit:read' });
    expect((await admin(token)).body).toMatchObject({ kind: 'machine', clientId: m.clientId, permissions: ['audit:read', 'keys:read'] });
    expect((await admin(token, 'GET', '/keys')).status).toBe(200);
    expect((await admin(token, 'POST', '/keys/rotate')).status).toBe(403);
    expect((await admin(token, 'GET', '/sources')).status).toBe(403);
  });

  it('refuses the token of a client disabled since, at once, and a scope taken off the client stops counting', async () => {
    const m = await machineClient('se-bi-tat', 'admin:keys:read admin:audit:read');
    const token = await tokenFor(m, { scope: 'admin:keys:read admin:audit:read' });
    expect((await admin(token, 'GET', '/keys')).status).toBe(200);

    await updateClient(tdb.db, m.clientId, { scope: 'admin:audit:read' }, 'test', { allowHttpLoopback: true });
    expect((await admin(token)).body.permissions).toEqual(['audit:read']);
    expect((await admin(token, 'GET', '/keys')).status).toBe(403);

    await disableClient(tdb.db, m.clientId, 'test', 'Hệ thống đồng bộ ngừng hoạt động');
    const refused = await admin(token, 'GET', '/audit/verify');
    expect(refused.status).toBe(401);
    expect(refused.challenge).toContain('error="invalid_token"');
    expect(refused.challenge).toContain('disabled');
  });

  it('refuses a token for another audience, a tampered signature or payload, and an opaque token', async () => {
    const m = await machineClient('kiem-tra-sai', 'admin:keys:read', { api_resource: 'https://kiemtra.example.gov.vn/api' });
    const forApi = await tokenFor(m, { resource: 'https://kiemtra.example.gov.vn/api' });
    const good = await tokenFor(m, { scope: 'admin:keys:read' });
    expect((await admin(good, 'GET', '/keys')).status).toBe(200);

    const wrongAudience = await admin(forApi, 'GET', '/keys');
    expect([wrongAudience.status, wrongAudience.challenge]).toEqual([401, expect.stringContaining("unexpected 'aud' claim value")]);
    // A well-formed RFC 6750 challenge: jose's quotes do not end error_description early.
    expect(wrongAudience.challenge).toMatch(/^Bearer realm="nixa admin", error="invalid_token", error_description="[^"\\]*"$/);
    const forged = await admin(tampered(good), 'GET', '/keys');
    expect([forged.status, forged.challenge]).toEqual([401, expect.stringContaining('signature verification failed')]);

    // The same signature over a payload that claims more.
    const [h, p, s] = good.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'admin:keys:read admin:keys:write' })).toString('base64url');
    const widenedCall = await admin(`${h}.${widened}.${s}`, 'POST', '/keys/rotate');
    expect([widenedCall.status, widenedCall.challenge]).toEqual([401, expect.stringContaining('signature verification failed')]);
    expect((await admin('Zm9vYmFyLW9wYXF1ZS10b2tlbg', 'GET', '/keys')).status).toBe(401);
  });

  it('refuses a token after it expires (a 1-second lifetime on a second instance)', async () => {
    const brief = await startTestNixa(tdb.db, { NIXA_TTL_CLIENT_CREDENTIALS: '1', NIXA_CLOCK_TOLERANCE_SECONDS: '0' });
    try {
      const m = await machineClient('song-ngan', 'admin:keys:read');
      const token = await tokenFor(m, { scope: 'admin:keys:read' }, brief);
      const claims = decodeJwt(token);
      expect(claims.exp! - claims.iat!).toBe(1);
      const refused = await waitFor(
        async () => {
          const r = await admin(token, 'GET', '/keys', brief);
          return r.status === 401 ? r : undefined;
        },
        10_000,
        'the token to expire',
      );
      expect(refused.challenge).toContain("'exp' claim timestamp check failed");
      expect((await introspect(m, token, brief)).body).toEqual({ active: false });
    } finally {
      await brief.close();
    }
  });
});

describe('introspection', () => {
  it('says active with the token’s claims to its own client, and inactive to any other or for a tampered token', async () => {
    const m = await machineClient('tu-kiem-tra', 'admin:keys:read');
    const other = await machineClient('may-khac', 'admin:keys:read');
    const token = await tokenFor(m, { scope: 'admin:keys:read' });
    const claims = decodeJwt(token);

    const own = await introspect(m, token);
    expect(own).toEqual({
      status: 200,
      body: {
        active: true,
        client_id: m.clientId,
        sub: m.clientId,
        scope: 'admin:keys:read',
        aud: adminResource(nixa.config.issuer),
        iss: nixa.config.issuer,
        exp: claims.exp,
        iat: claims.iat,
        jti: claims.jti,
        token_type: 'Bearer',
      },
    });
    expect(await introspect(other, token)).toEqual({ status: 200, body: { active: false } });
    expect(await introspect(m, tampered(token))).toEqual({ status: 200, body: { active: false } });
  });

  it('cannot revoke a machine token at the revocation endpoint (RFC 7009 unsupported_token_type): it expires', async () => {
    const m = await machineClient('thu-hoi', 'admin:keys:read');
    const token = await tokenFor(m, { scope: 'admin:keys:read' });
    const res = await fetch(`${nixa.config.issuer}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(m) },
      body: new URLSearchParams({ token }),
    });
    expect([res.status, ((await res.json()) as { error: string }).error]).toEqual([400, 'unsupported_token_type']);
    expect((await admin(token, 'GET', '/keys')).status).toBe(200);
  });
});

// Last: it revokes the signing key every other test's tokens were signed with.
describe('a revoked signing key', () => {
  it('makes the tokens it signed fail at the admin API and at introspection, and the next key signs on', async () => {
    const m = await machineClient('khoa-bi-lo', 'admin:keys:read');
    const token = await tokenFor(m, { scope: 'admin:keys:read' });
    expect((await admin(token, 'GET', '/keys')).status).toBe(200);
    const { kid } = decodeProtectedHeader(token);

    await revokeKey(tdb.db, nixa.cipher, kid!, 'test:operator', 'Khóa ký bị lộ trong bản sao lưu');
    await waitFor(async () => !(await publishedKids(nixa)).includes(kid!), 5_000, 'the revoked key to leave /jwks');
    await waitFor(async () => (await admin(token, 'GET', '/keys')).status === 401, 5_000, 'the admin API to refuse the token');
    expect((await admin(token, 'GET', '/keys')).challenge).toContain('no applicable key found');
    expect((await introspect(m, token)).body).toEqual({ active: false });

    const fresh = await tokenFor(m, { scope: 'admin:keys:read' });
    expect(decodeProtectedHeader(fresh).kid).not.toBe(kid);
    expect((await admin(fresh, 'GET', '/keys')).status).toBe(200);
    expect((await introspect(m, fresh)).body.active).toBe(true);
  });
});
