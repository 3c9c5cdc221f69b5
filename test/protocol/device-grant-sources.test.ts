// The device grant through a real sign-in: the demo kiosk, registered as `npm start`
// registers it (seedDemo), is approved by a citizen who signs in on the phone
// through a simulated identity source and consents; the kiosk's ID token carries
// the source's level and amr. Refusing consent on the phone is access_denied to it.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';

import { DEMO_KIOSK_CLIENT_ID, seedDemo } from '../../src/app/demo.js';
import { DEVICE_CODE_GRANT, showClient } from '../../src/clients/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { SIMULATED_SOURCE_IDS, startFederation, type Federation } from '../support/federation.js';
import { freePort } from '../support/nixa.js';
import { discover } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';

let tdb: TestDatabase;
let fed: Federation;
let config: oidc.Configuration;

// A generous timeout: the embedded database's first start takes long on a busy machine.
beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  await seedDemo(tdb.db, { ...fed.nixa.config, port: (await freePort()) - 100 }, silentLogger);
  config = await discover(fed.nixa.config.issuer, { clientId: DEMO_KIOSK_CLIENT_ID, redirectUri: '' });
}, 180_000);

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

const field = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];

/** The phone: the link, the confirmation, the chooser, the source, consent; returns the last page and the pages seen. */
async function approveThroughSource(d: oidc.DeviceAuthorizationResponse, citizen: string, consent: 'accept' | 'refuse') {
  const agent = new UserAgent();
  const form = await (await agent.request(d.verification_uri_complete!)).text();
  const verification = new URL('/device', fed.nixa.config.issuer);
  const confirm = await (await agent.submit(verification, { xsrf: field(form, 'xsrf')!, user_code: field(form, 'user_code')! })).res.text();
  let step = await agent.submit(verification, { xsrf: field(confirm, 'xsrf')!, user_code: field(confirm, 'user_code')!, confirm: 'yes' });
  const pages: string[] = [];
  for (let i = 0; i < 5; i++) {
    const html = await step.res.text();
    const at = new URL(step.url);
    const uid = at.pathname.split('/')[2];
    if (html.includes('name="source"')) {
      pages.push('chooser');
      step = await agent.submit(new URL(`/interaction/${uid}/source`, at), { csrf: field(html, 'csrf')!, source: SIMULATED_SOURCE_IDS.citizen_id });
    } else if (html.includes('name="citizen"')) {
      pages.push('source');
      step = await agent.submit(new URL(/action="(\/interaction\/[^"]+\/pick)"/.exec(html)![1]!, at), { citizen });
    } else if (html.includes('name="decision"')) {
      pages.push('consent');
      step = await agent.submit(new URL(`/interaction/${uid}/consent`, at), { csrf: field(html, 'csrf')!, decision: consent, shown: field(html, 'shown') ?? '' });
    } else {
      return { status: step.res.status, url: step.url, html, pages };
    }
  }
  throw new Error('the sign-in did not end');
}

describe('device grant with a federated sign-in', () => {
  it('registers the demo kiosk on start: a public client of the device grant only', async () => {
    const kiosk = await showClient(tdb.db, DEMO_KIOSK_CLIENT_ID);
    expect(kiosk).toMatchObject({ grantTypes: [DEVICE_CODE_GRANT], tokenEndpointAuthMethod: 'none', redirectUris: [] });
  });

  it('gives the kiosk the level and amr of the source the citizen signed in with on the phone, and the consented claims', async () => {
    const d = await oidc.initiateDeviceAuthorization(config, { scope: 'openid profile' });
    const end = await approveThroughSource(d, 'nguyen-van-an', 'accept');
    expect(end.pages).toEqual(['chooser', 'source', 'consent']);
    expect(end.html).toContain('Thiết bị đã được đăng nhập');
    expect(end.html).toContain('Ki-ốt dịch vụ công mẫu');
    const tokens = await oidc.pollDeviceAuthorizationGrant(config, d);
    const { payload } = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${fed.nixa.config.issuer}/jwks`)), {
      issuer: fed.nixa.config.issuer,
      audience: DEMO_KIOSK_CLIENT_ID,
    });
    expect(payload).toMatchObject({ acr: 'urn:nixa:loa:high', name: 'Nguyễn Văn An' });
    expect(payload.amr).toEqual(expect.arrayContaining(['fed']));
    expect(payload).not.toHaveProperty('national_id');
  }, 30_000);

  it('tells the kiosk access_denied when the citizen refuses to share, and audits both', async () => {
    const d = await oidc.initiateDeviceAuthorization(config, { scope: 'openid profile' });
    const end = await approveThroughSource(d, 'le-hoang-cuong', 'refuse');
    expect(end.pages).toEqual(['chooser', 'source', 'consent']);
    expect(end.html).toContain('Đã từ chối');
    await expect(oidc.pollDeviceAuthorizationGrant(config, d)).rejects.toMatchObject({ error: 'access_denied' });
    const { rows } = await tdb.db.query<{ event: string; subject: string | null; details: Record<string, unknown> }>(
      `SELECT event, subject, details FROM audit_events WHERE event IN ('CONSENT_REFUSED', 'DEVICE_GRANT_DENIED') ORDER BY seq`,
    );
    expect(rows.map((r) => r.event)).toEqual(['CONSENT_REFUSED', 'DEVICE_GRANT_DENIED']);
    expect(rows[1]).toMatchObject({ subject: rows[0]!.subject, details: { client: DEMO_KIOSK_CLIENT_ID, step: 'sign-in' } });
  }, 30_000);
});
