// A service's registered minimum assurance level (`nixa clients update --min-level`):
// a sign-in to it needs the higher of what it asks and that minimum, through the
// same step-up journey as if it had asked, and unmet_authentication_requirements
// when nothing can reach it.
import * as oidc from 'openid-client';

import { updateClient } from '../../src/clients/index.js';
import { updateSource } from '../../src/sources/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, SIMULATED_SOURCE_IDS, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';

let tdb: TestDatabase;
let fed: Federation;
let portal: TestClient;
let portalConfig: oidc.Configuration;
let taxes: TestClient;
let taxesConfig: oidc.Configuration;
let land: TestClient;
let landConfig: oidc.Configuration;

const options = { allowHttpLoopback: true };
const KEPT_STANDARD = 'a test of assurance levels, not of the FAPI profile';

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  portal = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công quốc gia' });
  // These services use secrets: at substantial and high they are kept standard, with a reason
  // (FAPI 2.0 services are tested in test/protocol/fapi2; the minimum works the same for both).
  taxes = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng thuế điện tử', min_level: 'substantial', security_profile: 'standard', security_profile_reason: KEPT_STANDARD });
  land = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Đăng ký đất đai' });
  await updateClient(tdb.db, land.clientId, { min_level: 'high', security_profile: 'standard' }, 'test', { ...options, reason: KEPT_STANDARD });
  [portalConfig, taxesConfig, landConfig] = await Promise.all([
    discover(fed.nixa.config.issuer, portal),
    discover(fed.nixa.config.issuer, taxes),
    discover(fed.nixa.config.issuer, land),
  ]);
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

describe("a service's minimum assurance level", () => {
  it('steps a citizen signed in at low up to high for a service with minimum high that asks nothing', async () => {
    const low = await federatedSignIn(portalConfig, portal.redirectUri, { source: 'telecom', citizen: 'hoang-minh-duc', consent: 'accept' });
    expect((await redeemFederated(portalConfig, low)).claims()!.acr).toBe('urn:nixa:loa:low');

    // No acr_values: the minimum alone sends the citizen to the step-up chooser.
    const stepUp = await federatedSignIn(landConfig, land.redirectUri, { agent: low.agent });
    const html = stepUp.page!.html;
    expect(html).toContain('cao hơn lần đăng nhập hiện tại');
    expect(html).toContain('Mức độ đảm bảo yêu cầu: cao.');
    expect(html).toContain(`value="${SIMULATED_SOURCE_IDS.citizen_id}"`);
    expect(html).not.toContain(`value="${SIMULATED_SOURCE_IDS.bank}"`);
    expect(html).not.toContain(`value="${SIMULATED_SOURCE_IDS.telecom}"`);

    const high = await federatedSignIn(landConfig, land.redirectUri, { agent: low.agent, source: 'citizen_id', citizen: 'hoang-minh-duc', consent: 'accept' });
    expect(high.pages[0]).toBe('chooser');
    expect((await redeemFederated(landConfig, high)).claims()!.acr).toBe('urn:nixa:loa:high');
  });

  it('raises a request for low to the service minimum substantial', async () => {
    const s = await federatedSignIn(taxesConfig, taxes.redirectUri, { extra: { acr_values: 'urn:nixa:loa:low' } });
    const html = s.page!.html;
    expect(html).toContain('Mức độ đảm bảo yêu cầu: đáng kể.');
    expect(html).toContain(`value="${SIMULATED_SOURCE_IDS.bank}"`);
    expect(html).not.toContain(`value="${SIMULATED_SOURCE_IDS.telecom}"`);

    const done = await federatedSignIn(taxesConfig, taxes.redirectUri, {
      agent: s.agent,
      source: 'bank',
      citizen: 'le-hoang-cuong',
      consent: 'accept',
      extra: { acr_values: 'urn:nixa:loa:low' },
    });
    expect((await redeemFederated(taxesConfig, done)).claims()!.acr).toBe('urn:nixa:loa:substantial');
  });

  it('keeps a higher level the service asks for above its minimum', async () => {
    const s = await federatedSignIn(taxesConfig, taxes.redirectUri, { extra: { acr_values: 'urn:nixa:loa:high' } });
    expect(s.page!.html).toContain('Mức độ đảm bảo yêu cầu: cao.');
    expect(s.page!.html).not.toContain(`value="${SIMULATED_SOURCE_IDS.bank}"`);
  });

  it('ignores a request that tries to set the minimum itself', async () => {
    const s = await federatedSignIn(landConfig, land.redirectUri, { extra: { nixa_service_min_level: 'low' } });
    expect(s.page!.html).toContain('Mức độ đảm bảo yêu cầu: cao.');
    const plain = await federatedSignIn(portalConfig, portal.redirectUri, { extra: { nixa_service_min_level: 'high' } });
    expect(plain.page!.html).not.toContain('Mức độ đảm bảo yêu cầu');
    expect(plain.page!.html).toContain(`value="${SIMULATED_SOURCE_IDS.telecom}"`);
  });

  it('takes effect at once when the operator changes it', async () => {
    await updateClient(tdb.db, portal.clientId, { min_level: 'substantial', security_profile: 'standard' }, 'test', { ...options, reason: KEPT_STANDARD });
    try {
      const s = await federatedSignIn(portalConfig, portal.redirectUri, {});
      expect(s.page!.html).toContain('Mức độ đảm bảo yêu cầu: đáng kể.');
    } finally {
      await updateClient(tdb.db, portal.clientId, { min_level: null }, 'test', options);
    }
    const after = await federatedSignIn(portalConfig, portal.redirectUri, {});
    expect(after.page!.html).not.toContain('Mức độ đảm bảo yêu cầu');
  });

  // Last: it disables the citizen-ID source.
  it('answers unmet_authentication_requirements when no source can reach the minimum', async () => {
    await updateSource(tdb.db, fed.nixa.cipher, SIMULATED_SOURCE_IDS.citizen_id, { enabled: false }, 'test', { allowHttpLoopback: true });
    await fed.nixa.sources.refresh();
    const s = await federatedSignIn(landConfig, land.redirectUri, {});
    expect(s.stoppedAt).toBeDefined();
    const answer = new URL(s.stoppedAt!);
    expect(answer.searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(answer.searchParams.get('error_description')).toMatch(/assurance level high/);
  });
});
