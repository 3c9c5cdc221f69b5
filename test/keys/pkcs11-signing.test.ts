// End to end with a real SoftHSM2 token: a running nixa (NIXA_KEY_BACKEND=pkcs11)
// signs a sign-in's ID token, a JWT access token and the private_key_jwt assertion
// it sends a source in the token, and each verifies with the published JWKS. When the token refuses to sign
// (its PIN changed under nixa, every session lost), the token endpoint answers
// 503 temporarily_unavailable, nixa logs an error and counts it, and no token is
// signed by any other key; once the token is back, the next request is signed there.
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import * as oidc from 'openid-client';

import type { Nixa } from '../../src/app/index.js';
import { addClient } from '../../src/clients/index.js';
import { revokeKey } from '../../src/keys/index.js';
import { clientAuthentication } from '../../src/sources/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { capturingLogger, startTestNixa } from '../support/nixa.js';
import { discover, redeem, registerTestClient, signIn, type TestClient } from '../support/relying-party.js';
import { createTestToken, describeWithSoftHsm, TokenInspector, type TestToken } from './pkcs11-token.js';

describeWithSoftHsm(import.meta.url, 'tokens signed in the HSM, end to end', () => {
  let token: TestToken;
  let tdb: TestDatabase;
  let nixa: Nixa;
  let client: TestClient;
  let rp: oidc.Configuration;
  let inspector: TokenInspector;
  const logs = capturingLogger();
  const machine = { clientId: 'dong-bo-ho-so-hsm', secret: '' };

  beforeAll(async () => {
    token = createTestToken('e2e');
    tdb = await createTestDatabase();
    nixa = await startTestNixa(tdb.db, token.env, { logger: logs.logger });
    inspector = new TokenInspector(token.label);
    client = await registerTestClient(tdb.db);
    rp = await discover(nixa.config.issuer, client);
    const { secret } = await addClient(
      tdb.db,
      { client_id: machine.clientId, name: 'Đồng bộ hồ sơ (HSM)', grant_types: ['client_credentials'], scope: 'admin:keys:read' },
      'test',
      { allowHttpLoopback: true },
    );
    machine.secret = secret!;
  });

  afterAll(async () => {
    inspector?.release();
    await nixa?.close();
    await tdb?.drop();
    token?.remove();
  });

  const jwks = async () => createLocalJWKSet((await (await fetch(`${nixa.url}/jwks`)).json()) as { keys: JWK[] });
  const activeKid = async (alg: string) =>
    (await tdb.db.query<{ kid: string; backend: string }>(`SELECT kid, backend FROM keys WHERE use = 'sig' AND alg = $1 AND state = 'active'`, [alg])).rows[0]!;

  async function clientCredentials() {
    const res = await fetch(`${nixa.config.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${machine.clientId}:${machine.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'admin:keys:read' }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it("signs a sign-in's ID token with the token-held RS256 key; it verifies with the published JWKS", async () => {
    const tokens = await redeem(rp, await signIn(rp, client));
    const active = await activeKid('RS256');
    expect(active.backend).toBe('pkcs11');
    expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ alg: 'RS256', kid: active.kid });
    const { payload } = await jwtVerify(tokens.id_token!, await jwks(), { issuer: nixa.config.issuer, audience: client.clientId });
    expect(payload.sub).toBeTruthy();
    // The key that signed lives in the token only: no private part in the row.
    const { rows } = await tdb.db.query<{ private_enc: unknown }>('SELECT private_enc FROM keys WHERE kid = $1', [active.kid]);
    expect(rows[0]!.private_enc).toBeNull();
  });

  it('signs a JWT access token with the token-held ES256 key; it verifies with the published JWKS and opens the admin API', async () => {
    const { status, body } = await clientCredentials();
    expect(status).toBe(200);
    const at = body.access_token as string;
    const active = await activeKid('ES256');
    expect(decodeProtectedHeader(at)).toMatchObject({ typ: 'at+jwt', alg: 'ES256', kid: active.kid });
    await jwtVerify(at, await jwks(), { issuer: nixa.config.issuer, typ: 'at+jwt' });
    const me = await fetch(`${nixa.config.issuer}/admin/api/v1/keys`, { headers: { authorization: `Bearer ${at}` } });
    expect(me.status).toBe(200);
  });

  it('signs the private_key_jwt assertion nixa sends a source in the token; the source can check it at /jwks', async () => {
    const auth = await clientAuthentication({ id: 'cccd', authMethod: 'private_key_jwt', clientSecret: undefined }, () => nixa.keyring.snapshot.signers);
    const body = new URLSearchParams();
    await auth({ issuer: 'https://cccd.example.gov.vn' } as oidc.ServerMetadata, { client_id: 'nixa-tai-cccd' } as oidc.ClientMetadata, body, new Headers());
    const assertion = body.get('client_assertion')!;
    expect(body.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    expect(decodeProtectedHeader(assertion)).toMatchObject({ alg: 'ES256', kid: (await activeKid('ES256')).kid });
    const { payload } = await jwtVerify(assertion, await jwks(), { issuer: 'nixa-tai-cccd', subject: 'nixa-tai-cccd', audience: 'https://cccd.example.gov.vn' });
    expect(typeof payload.jti).toBe('string');
  });

  it('answers 503 temporarily_unavailable with an alert when the token refuses to sign, signs with no other key, and recovers', async () => {
    const failures = async () => (await nixa.metrics.signingFailures.get()).values.reduce((n, v) => n + v.value, 0);
    const before = await failures();
    const keysBefore = (await tdb.db.query('SELECT kid FROM keys ORDER BY kid')).rows;
    // The token's PIN changes under nixa and every session of this process goes:
    // nixa's re-login with the PIN it was given is refused.
    const newPin = '135790';
    const s = inspector.session(token.pin);
    inspector.lib.C_SetPIN(s, token.pin, newPin);
    inspector.lib.C_CloseAllSessions(inspector.slot);
    let restored = false;
    const restore = () => {
      if (restored) return;
      restored = true;
      const s2 = inspector.session(newPin);
      inspector.lib.C_SetPIN(s2, newPin, token.pin);
      inspector.lib.C_CloseSession(s2);
    };
    try {
      const refused = await clientCredentials();
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ error: 'temporarily_unavailable' });
      expect(refused.body.access_token).toBeUndefined();
      // A sign-in's code exchange meets the same answer: no ID token signed elsewhere.
      const err = (await redeem(rp, await signIn(rp, client)).catch((e: unknown) => e)) as { cause?: Response };
      expect(err.cause).toBeInstanceOf(Response);
      expect(err.cause!.status).toBe(503);
      expect(await err.cause!.json()).toMatchObject({ error: 'temporarily_unavailable' });

      expect(await failures()).toBeGreaterThanOrEqual(before + 2);
      expect((await nixa.metrics.signingFailures.get()).values.find((v) => v.labels.reason === 'pin-refused')?.value).toBeGreaterThanOrEqual(2);
      const alerts = logs.lines().filter((l) => l.level === 'error' && /signing failed at the key store/.test(String(l.msg)));
      expect(alerts.length).toBeGreaterThanOrEqual(2);
      expect(alerts[0]).toMatchObject({ reason: 'pin-refused' });
      // No key was made or switched to in the meantime, and no log line carries a PIN.
      expect((await tdb.db.query('SELECT kid FROM keys ORDER BY kid')).rows).toEqual(keysBefore);
      const text = JSON.stringify(logs.lines());
      expect(text).not.toContain(token.pin);
      expect(text).not.toContain(newPin);
    } finally {
      restore();
    }
    // The token's PIN is restored: the next request re-opens a session and is signed in the token again.
    const back = await clientCredentials();
    expect(back.status).toBe(200);
    expect(decodeProtectedHeader(back.body.access_token as string).kid).toBe((await activeKid('ES256')).kid);
    await jwtVerify(back.body.access_token as string, await jwks(), { issuer: nixa.config.issuer });
  });

  it('revoking the signing key destroys it in the token and takes it out of /jwks; the next token-held key signs', async () => {
    const old = await activeKid('ES256');
    await revokeKey(tdb.db, nixa.keyring.store, old.kid, 'test:operator', 'Khóa ký trong HSM nghi bị lộ (kiểm thử)');
    await nixa.keyring.refresh();
    const published = ((await (await fetch(`${nixa.url}/jwks`)).json()) as { keys: JWK[] }).keys.map((k) => k.kid);
    expect(published).not.toContain(old.kid);
    const s = inspector.session(token.pin);
    try {
      expect(inspector.objects(s, old.kid)).toEqual({ privateKey: undefined, publicKey: undefined });
    } finally {
      inspector.lib.C_CloseSession(s);
    }
    const next = await clientCredentials();
    expect(next.status).toBe(200);
    const kid = decodeProtectedHeader(next.body.access_token as string).kid;
    expect(kid).not.toBe(old.kid);
    expect((await activeKid('ES256')).backend).toBe('pkcs11');
  });
});
