// Relying parties authenticate at the token endpoint with what they registered:
// a secret (kept only as an argon2 hash) or a private_key_jwt assertion.
import { randomUUID } from 'node:crypto';

import { exportJWK, generateKeyPair, SignJWT } from 'jose';

import type { Nixa } from '../../src/app/index.js';
import { addClient, disableClient, rotateClientSecret } from '../../src/clients/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestNixa } from '../support/nixa.js';

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

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

function clientCredentials(headers: Record<string, string>, extra: Record<string, string> = {}) {
  return fetch(`${nixa.config.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...extra }),
  });
}

async function machineClient(id: string, overrides: Record<string, unknown> = {}) {
  return addClient(
    tdb.db,
    { client_id: id, name: 'Hệ thống tích hợp thuế', grant_types: ['client_credentials'], ...overrides },
    'test',
    { allowHttpLoopback: true },
  );
}

describe('client_secret_basic', () => {
  it('stores only an argon2 hash of the secret, which is shown once', async () => {
    const { secret } = await machineClient('thue-batch-1');
    const { rows } = await tdb.db.query<{ secret_hash: string; metadata: unknown }>('SELECT secret_hash, metadata FROM clients WHERE client_id = $1', ['thue-batch-1']);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rows[0]!.secret_hash).toMatch(/^\$argon2id\$/);
    expect(JSON.stringify(rows[0])).not.toContain(secret);
  });

  it('issues a token for the right secret and invalid_client for a wrong one', async () => {
    const { secret } = await machineClient('thue-batch-2');
    const ok = await clientCredentials({ authorization: basic('thue-batch-2', secret!) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });

    const bad = await clientCredentials({ authorization: basic('thue-batch-2', `${secret}x`) });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('stops accepting the old secret the moment it is rotated', async () => {
    const { secret: old } = await machineClient('thue-batch-3');
    expect((await clientCredentials({ authorization: basic('thue-batch-3', old!) })).status).toBe(200);
    const { secret: fresh } = await rotateClientSecret(tdb.db, 'thue-batch-3', 'test');
    expect((await clientCredentials({ authorization: basic('thue-batch-3', old!) })).status).toBe(401);
    expect((await clientCredentials({ authorization: basic('thue-batch-3', fresh) })).status).toBe(200);
  });

  it('refuses a disabled client at once', async () => {
    const { secret } = await machineClient('thue-batch-4');
    await disableClient(tdb.db, 'thue-batch-4', 'test', 'contract ended');
    const res = await clientCredentials({ authorization: basic('thue-batch-4', secret!) });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('does not accept the secret in the request body (client_secret_post is not offered)', async () => {
    const { secret } = await machineClient('thue-batch-5');
    const res = await clientCredentials({}, { client_id: 'thue-batch-5', client_secret: secret! });
    expect(res.status).toBe(401);
  });
});

describe('private_key_jwt', () => {
  it('accepts an assertion signed by the registered key and refuses one signed by another, or replayed', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const other = await generateKeyPair('ES256');
    await machineClient('bhxh-sync', {
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'bhxh-1', use: 'sig', alg: 'ES256' }] },
    });
    const assertion = (key: Parameters<SignJWT['sign']>[0], exp: string | number = '60s') =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'bhxh-1' })
        .setIssuer('bhxh-sync')
        .setSubject('bhxh-sync')
        .setAudience(nixa.config.issuer)
        .setJti(randomUUID())
        .setIssuedAt()
        .setExpirationTime(exp)
        .sign(key);
    const form = (jwt: string) => ({
      client_id: 'bhxh-sync',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: jwt,
    });

    const good = await assertion(privateKey);
    expect((await clientCredentials({}, form(good))).status).toBe(200);
    // The same assertion again is a replay (ReplayDetection is stored in PostgreSQL).
    const replay = await clientCredentials({}, form(good));
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ error: 'invalid_client' });

    const forged = await clientCredentials({}, form(await assertion(other.privateKey)));
    expect(forged.status).toBe(401);

    // exp is a NumericDate and may carry a fraction; the replay record must still be stored.
    const fractional = await clientCredentials({}, form(await assertion(privateKey, Date.now() / 1000 + 59.5)));
    expect(fractional.status).toBe(200);
  });
});
