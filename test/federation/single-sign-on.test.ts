// Single sign-on: a citizen signed in once is not asked again by a second
// service, unless it demands a fresh login.
import type * as oidc from 'openid-client';

import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';

let tdb: TestDatabase;
let fed: Federation;
let first: TestClient;
let second: TestClient;
let configFirst: oidc.Configuration;
let configSecond: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  first = await registerTestClient(tdb.db, { scope: 'openid profile', subject_type: 'pairwise', name: 'Dịch vụ thuế điện tử' });
  second = await registerTestClient(tdb.db, { scope: 'openid profile', subject_type: 'pairwise', name: 'Bảo hiểm xã hội' });
  configFirst = await discover(fed.nixa.config.issuer, first);
  configSecond = await discover(fed.nixa.config.issuer, second);
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

describe('single sign-on', () => {
  it('signs the citizen in to a second service without another source login (only its consent is asked)', async () => {
    const a = await federatedSignIn(configFirst, first.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an', consent: 'accept' });
    expect(a.pages).toEqual(['chooser', 'source-picker', 'consent']);
    const b = await federatedSignIn(configSecond, second.redirectUri, { agent: a.agent, consent: 'accept' });
    expect(b.pages).toEqual(['consent']);
    const claims = (await redeemFederated(configSecond, b)).claims()!;
    expect(claims.name).toBe('Nguyễn Văn An');
    expect(claims.acr).toBe('urn:nixa:loa:high');
  });

  it('asks the citizen to sign in again, at nixa and at the source, when the service sends prompt=login', async () => {
    const a = await federatedSignIn(configFirst, first.redirectUri, { source: 'bank', citizen: 'le-hoang-cuong', consent: 'accept' });
    expect(a.stoppedAt).toBeDefined();
    const again = await federatedSignIn(configFirst, first.redirectUri, { agent: a.agent, source: 'bank', citizen: 'le-hoang-cuong', consent: 'accept', extra: { prompt: 'login' } });
    // The chooser again, and the source's picker again (the source's own session is not reused).
    expect(again.pages).toEqual(['chooser', 'source-picker']);
    expect(again.stoppedAt).toBeDefined();
  });

  it('without prompt=login, a returning citizen at the same service goes straight back', async () => {
    const a = await federatedSignIn(configFirst, first.redirectUri, { source: 'telecom', citizen: 'bui-thi-lan', consent: 'accept', scope: 'openid' });
    const again = await federatedSignIn(configFirst, first.redirectUri, { agent: a.agent, scope: 'openid' });
    expect(again.pages).toEqual([]);
    expect((await redeemFederated(configFirst, again)).claims()!.acr).toBe('urn:nixa:loa:low');
  });
});
