// The whole federated sign-in over real HTTP: a service (openid-client) → nixa →
// chooser → a simulated source (a real oidc-provider) → consent → tokens.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type * as oidc from 'openid-client';

import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';

let tdb: TestDatabase;
let fed: Federation;
let service: TestClient;
let config: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  service = await registerTestClient(tdb.db, { scope: 'openid profile phone address national_id', subject_type: 'pairwise', name: 'Cổng dịch vụ công quốc gia' });
  config = await discover(fed.nixa.config.issuer, service);
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

const countRows = async (table: string) => (await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;

describe('federated sign-in', () => {
  it('signs a citizen in through the citizen-ID source and shares exactly the consented attributes', async () => {
    const s = await federatedSignIn(config, service.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an', consent: 'accept', scope: 'openid profile' });
    expect(s.pages).toEqual(['chooser', 'source-picker', 'consent']);
    const tokens = await redeemFederated(config, s);
    const { payload } = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${fed.nixa.config.issuer}/jwks`)), {
      issuer: fed.nixa.config.issuer,
      audience: service.clientId,
    });
    expect(payload).toMatchObject({
      name: 'Nguyễn Văn An',
      birthdate: '1985-03-14',
      gender: 'male',
      acr: 'urn:nixa:loa:high',
      place_of_origin: expect.stringContaining('Hoài Đức'),
    });
    expect(payload.amr).toEqual(expect.arrayContaining(['fed']));
    // Nothing beyond the profile scope: no ID number, phone or address.
    for (const claim of ['national_id', 'phone_number', 'address']) expect(payload).not.toHaveProperty(claim);
    expect(payload.sub).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('does not ask for consent again for the same attributes, and asks again when the service wants more', async () => {
    const first = await federatedSignIn(config, service.redirectUri, { source: 'citizen_id', citizen: 'le-hoang-cuong', consent: 'accept' });
    expect(first.pages).toContain('consent');
    const again = await federatedSignIn(config, service.redirectUri, { agent: first.agent, consent: 'accept' });
    expect(again.pages).toEqual([]);
    expect(again.stoppedAt).toBeDefined();
    const more = await federatedSignIn(config, service.redirectUri, { agent: first.agent, consent: 'accept', scope: 'openid profile national_id' });
    expect(more.pages).toEqual(['consent']);
    const claims = (await redeemFederated(config, more)).claims()!;
    expect(claims.national_id).toMatch(/^\d{12}$/);
  });

  it('returns access_denied to the service when the citizen refuses to share, and remembers nothing', async () => {
    const consents = await countRows('consents');
    const s = await federatedSignIn(config, service.redirectUri, { source: 'citizen_id', citizen: 'dang-thi-ngoc-ha', consent: 'refuse' });
    const back = new URL(s.stoppedAt!);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(await countRows('consents')).toBe(consents);
  });

  it('honours the claims request parameter for a single attribute', async () => {
    const s = await federatedSignIn(config, service.redirectUri, {
      source: 'citizen_id',
      citizen: 'pham-thi-dung',
      consent: 'accept',
      scope: 'openid',
      extra: { claims: JSON.stringify({ id_token: { birthdate: { essential: true } } }) },
    });
    const claims = (await redeemFederated(config, s)).claims()!;
    expect(claims.birthdate).toEqual(expect.any(String));
    expect(claims).not.toHaveProperty('name');
  });
});
