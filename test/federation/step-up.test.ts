// A service asking for more assurance than the session has: nixa steps up through
// a source that can vouch higher, in the same account, instead of failing.
import type * as oidc from 'openid-client';

import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';

let tdb: TestDatabase;
let fed: Federation;
let portal: TestClient;
let config: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  portal = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng thuế điện tử' });
  config = await discover(fed.nixa.config.issuer, portal);
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

describe('stepping up through a stronger source', () => {
  it('asks a citizen signed in at low to confirm with a source that reaches high, and lands in the same account', async () => {
    const low = await federatedSignIn(config, portal.redirectUri, { source: 'telecom', citizen: 'hoang-minh-duc', consent: 'accept' });
    const lowClaims = (await redeemFederated(config, low)).claims()!;
    expect(lowClaims.acr).toBe('urn:nixa:loa:low');

    const high = await federatedSignIn(config, portal.redirectUri, {
      agent: low.agent,
      source: 'citizen_id',
      citizen: 'hoang-minh-duc',
      consent: 'accept',
      extra: { acr_values: 'urn:nixa:loa:high' },
    });
    expect(high.pages[0]).toBe('chooser');
    const highClaims = (await redeemFederated(config, high)).claims()!;
    expect(highClaims.acr).toBe('urn:nixa:loa:high');
    expect(highClaims.sub).toBe(lowClaims.sub);

    // The session is now at high: a request for substantial is met without asking.
    const again = await federatedSignIn(config, portal.redirectUri, { agent: low.agent, extra: { acr_values: 'urn:nixa:loa:substantial' } });
    expect(again.pages).toEqual([]);
    expect((await redeemFederated(config, again)).claims()!.acr).toBe('urn:nixa:loa:high');
  });

  it('offers only the sources that can reach the level, and says why the citizen is asked again', async () => {
    const low = await federatedSignIn(config, portal.redirectUri, { source: 'telecom', citizen: 'nguyen-van-an', consent: 'accept' });
    await redeemFederated(config, low);
    const stepUp = await federatedSignIn(config, portal.redirectUri, { agent: low.agent, extra: { acr_values: 'urn:nixa:loa:substantial' } });
    const html = stepUp.page!.html;
    expect(html).toContain('cao hơn lần đăng nhập hiện tại');
    expect(html).toContain('value="sim-citizen-id"');
    expect(html).toContain('value="sim-bank"');
    expect(html).not.toContain('value="sim-telecom"');
  });

  it('honours an essential acr in the claims parameter the same way', async () => {
    const low = await federatedSignIn(config, portal.redirectUri, { source: 'telecom', citizen: 'pham-thi-dung', consent: 'accept' });
    await redeemFederated(config, low);
    const stepUp = await federatedSignIn(config, portal.redirectUri, {
      agent: low.agent,
      extra: { claims: JSON.stringify({ id_token: { acr: { essential: true, values: ['urn:nixa:loa:high'] } } }) },
    });
    expect(stepUp.page!.html).toContain('value="sim-citizen-id"');
    expect(stepUp.page!.html).not.toContain('value="sim-bank"');
  });
});
