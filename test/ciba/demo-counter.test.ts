// The demo post-office counter that `npm start` registers (seedDemo): a CIBA
// client in poll mode whose secret is kept in the data directory, owner-only.
// Used as README says — by openid-client here — it asks a bound citizen, who
// approves on the phone, and gets tokens.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import * as oidc from 'openid-client';

import { DEMO_COUNTER_CLIENT_ID, seedDemo } from '../../src/app/demo.js';
import { silentLogger } from '../../src/logging/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFederation, type Federation } from '../support/federation.js';
import { freePort } from '../support/nixa.js';
import { approveWithPasskey, boundPhone, openOnPhone, PHONE_PASSKEY_ENV } from '../support/phone.js';
import { discover, registerTestClient } from '../support/relying-party.js';

describe('the demo counter (CIBA) that npm start registers', () => {
  let tdb: TestDatabase;
  let fed: Federation;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    fed = await startFederation(tdb, PHONE_PASSKEY_ENV);
  });
  afterAll(async () => {
    await fed?.close();
    await tdb?.drop();
  });

  it('is registered once with its secret in the data directory (owner-only), and asks a citizen who approves on the phone', async () => {
    const config = { ...fed.nixa.config, port: (await freePort()) - 100 };
    await seedDemo(tdb.db, config, silentLogger);
    await seedDemo(tdb.db, config, silentLogger);
    const file = join(config.dataDir, 'demo-counter.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { clientId: string; clientSecret: string };
    expect(saved.clientId).toBe(DEMO_COUNTER_CLIENT_ID);

    const portal = await registerTestClient(tdb.db, { scope: 'openid profile' });
    const world = { issuer: fed.nixa.config.issuer, config: await discover(fed.nixa.config.issuer, portal), redirectUri: portal.redirectUri };
    const phone = await boundPhone(world, 'bank', 'tran-thi-binh');
    const counter = await discover(world.issuer, { clientId: saved.clientId, secret: saved.clientSecret, redirectUri: '' });
    const asked = await oidc.initiateBackchannelAuthentication(counter, { scope: 'openid profile', login_hint: '079192038561', binding_message: 'Quầy 1: 2207' });
    const list = await openOnPhone(world, phone, '/p');
    const link = /<a href="(\/p\/[A-Z]{10})">Bưu điện mẫu/.exec(list.html)![1]!;
    const page = await openOnPhone(world, phone, link);
    expect(page.html).toContain('Quầy 1: 2207');
    expect((await approveWithPasskey(world, phone, link, page.csrf!)).status).toBe(200);
    const tokens = await oidc.genericGrantRequest(counter, 'urn:openid:params:grant-type:ciba', { auth_req_id: asked.auth_req_id });
    expect(tokens.claims()!.acr).toBe('urn:nixa:loa:substantial');
  });
});
