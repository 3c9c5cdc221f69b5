import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';

import type { Nixa } from '../../src/app/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestNixa } from '../support/nixa.js';
import { discover, redeem, registerTestClient, signIn, type TestClient } from '../support/relying-party.js';

let tdb: TestDatabase;
let nixa: Nixa;
let client: TestClient;
let config: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db);
  client = await registerTestClient(tdb.db);
  config = await discover(nixa.config.issuer, client);
});

afterAll(async () => {
  await nixa?.close();
  await tdb?.drop();
});

describe('authorization code + PKCE with a real relying party', () => {
  it('issues an ID token that verifies against the published JWKS', async () => {
    const s = await signIn(config, client, { account: 'nguyen-van-an' });
    const tokens = await redeem(config, s);

    expect(tokens.access_token).toEqual(expect.any(String));
    const jwks = createRemoteJWKSet(new URL(`${nixa.config.issuer}/jwks`));
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token!, jwks, {
      issuer: nixa.config.issuer,
      audience: client.clientId,
    });
    expect(payload.sub).toBe('nguyen-van-an');
    expect(payload.nonce).toBe(s.nonce);
    expect(protectedHeader.alg).toBe('RS256');
    const published = (await (await fetch(`${nixa.config.issuer}/jwks`)).json()) as { keys: { kid: string }[] };
    expect(published.keys.map((k) => k.kid)).toContain(protectedHeader.kid);

    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, payload.sub!);
    expect(userinfo.sub).toBe('nguyen-van-an');
  });

  it('refuses a second redemption of the same code and revokes what the first one issued', async () => {
    const s = await signIn(config, client);
    const first = await redeem(config, s);
    await expect(redeem(config, s)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.fetchUserInfo(config, first.access_token, oidc.skipSubjectCheck)).rejects.toBeDefined();
  });

  it('signs a citizen in to a second service without asking again, unless prompt=login', async () => {
    const first = await signIn(config, client, { account: 'pham-thi-dung' });
    expect(first.sawLoginPage).toBe(true);
    const other = await registerTestClient(tdb.db);
    const otherConfig = await discover(nixa.config.issuer, other);

    const sso = await signIn(otherConfig, other, { agent: first.agent });
    expect(sso.sawLoginPage).toBe(false);
    const claims = (await redeem(otherConfig, sso)).claims()!;
    expect(claims.sub).toBe('pham-thi-dung');

    const forced = await signIn(otherConfig, other, { agent: first.agent, account: 'pham-thi-dung', extra: { prompt: 'login' } });
    expect(forced.sawLoginPage).toBe(true);
    expect((await redeem(otherConfig, forced)).claims()!.sub).toBe('pham-thi-dung');
  });

  it('signs ID tokens with ES256 for a client that registers it', async () => {
    const es = await registerTestClient(tdb.db, { id_token_signed_response_alg: 'ES256' });
    const esConfig = await discover(nixa.config.issuer, es);
    const tokens = await redeem(esConfig, await signIn(esConfig, es));
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('ES256');
  });
});
