// Acting for an organisation, end to end over HTTP with openid-client as the
// service: the choice page after the person's own sign-in, the consent page that
// names the organisation, the `organisation` claim and authorization_details in
// the tokens, the re-check at refresh, RAR for a named mandate, and a registry
// that does not answer.
import * as oidc from 'openid-client';

import { RegistryUnavailableError } from '../../src/registries/errors.js';
import { createVerifier } from '../../src/verify/index.js';
import type { Organisation, OrganisationRegistries, RepresentationLookup } from '../../src/registries/contract.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation } from '../support/federation.js';
import { field } from '../support/pages.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';

const AN = '001085004217';
const BINH = '079192038561';

/** A registry's data in the test's hands: what it says can change between two requests. */
class TestRegistries implements OrganisationRegistries {
  down = false;
  calls = 0;
  data = new Map<string, Organisation[]>();
  reset(): void {
    this.down = false;
    this.data = new Map([
      [
        AN,
        [
          { enterprise_code: '0101234567', name_vi: 'Công ty TNHH Thương mại Hàng Bạc', name_en: 'Hang Bac Trading Co., Ltd', status: 'active', role: 'legal_representative' },
          { enterprise_code: '0109876543', name_vi: 'Công ty Cổ phần Công nghệ Hoàn Kiếm', name_en: 'Hoan Kiem Technology JSC', status: 'active', role: 'legal_representative' },
        ],
      ],
      [
        BINH,
        [
          { enterprise_code: '0101234567', name_vi: 'Công ty TNHH Thương mại Hàng Bạc', name_en: 'Hang Bac Trading Co., Ltd', status: 'active', role: 'mandate', tasks: ['tax_filing'], valid_until: '2027-12-31' },
          { enterprise_code: '0312345678', name_vi: 'Công ty TNHH Dịch vụ Bến Thành', name_en: 'Ben Thanh Services Co., Ltd', status: 'dissolved', role: 'legal_representative' },
        ],
      ],
    ]);
  }
  private answer(orgs: Organisation[]): RepresentationLookup {
    if (this.down) throw new RegistryUnavailableError([{ registry: 'test-registry', reason: 'unreachable', detail: 'down' }]);
    this.calls += 1;
    return { registry: { id: 'test-registry', name: { vi: 'Cơ quan đăng ký thử nghiệm', en: 'Test registry' } }, checkedAt: new Date().toISOString(), organisations: orgs };
  }
  async lookup(nationalId: string) {
    return [this.answer(this.data.get(nationalId) ?? [])];
  }
  async recheck(_registry: string, nationalId: string, code: string) {
    return this.answer((this.data.get(nationalId) ?? []).filter((o) => o.enterprise_code === code));
  }
}

let tdb: TestDatabase;
let fed: Federation;
const registries = new TestRegistries();
let svc: TestClient;
let config: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb, {}, { registries });
  svc = await registerTestClient(tdb.db, {
    scope: 'openid profile offline_access representation',
    representation: ['legal_representative', 'mandate:tax_filing'],
    // RAR details are about the service's API: its access tokens are for it.
    api_resource: 'https://api.test-service.example/',
  });
  config = await discover(fed.nixa.config.issuer, svc);
}, 120_000);

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

beforeEach(() => registries.reset());

const SCOPE = 'openid profile offline_access representation';

describe('choosing whom to act for (representation scope)', () => {
  test('a person who represents two companies picks one: the tokens name only that one', async () => {
    const s = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an', scope: SCOPE, represent: '0109876543', consent: 'accept' });
    expect(s.pages).toEqual(['chooser', 'source-picker', 'representation', 'consent']);
    expect(s.stoppedAt).toBeDefined();
    const tokens = await redeemFederated(config, s);
    const claims = tokens.claims()!;
    expect(claims.organisation).toMatchObject({ enterprise_code: '0109876543', name: 'Công ty Cổ phần Công nghệ Hoàn Kiếm', status: 'active', role: 'legal_representative', registry: 'test-registry' });
    expect(JSON.stringify(claims)).not.toContain('0101234567');
    expect(typeof (claims.organisation as { checked_at: unknown }).checked_at).toBe('number');
    const details = (tokens as unknown as { authorization_details?: Array<Record<string, unknown>> }).authorization_details;
    expect(details).toHaveLength(1);
    expect(details![0]).toMatchObject({ type: 'nixa_representation', identifier: '0109876543' });
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info.organisation).toMatchObject({ enterprise_code: '0109876543' });
    // Audited with both parties: the person (subject) and the organisation.
    const { rows } = await tdb.db.query<{ subject: string; details: Record<string, unknown> }>(`SELECT subject, details FROM audit_events WHERE event = 'REPRESENTATION_CHOSEN'`);
    expect(rows.find((r) => r.details.enterprise === '0109876543')).toMatchObject({ subject: claims.sub, details: { client: svc.clientId, role: 'legal_representative', via: 'scope' } });
    // nixa/verify hands the service the organisation as result.organisation.
    const verified = await createVerifier({ issuer: fed.nixa.config.issuer, audience: svc.clientId }).verifyIdToken(tokens.id_token!);
    expect(verified).toMatchObject({ ok: true, organisation: { enterprise_code: '0109876543', role: 'legal_representative' } });
  }, 60_000);

  test('the choice page shows both companies; the consent page names the chosen one', async () => {
    const s = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an', scope: SCOPE });
    expect(s.page?.html).toContain('Công ty TNHH Thương mại Hàng Bạc');
    expect(s.page?.html).toContain('Công ty Cổ phần Công nghệ Hoàn Kiếm');
    expect(s.page?.html).toContain('value="self"');
    const uid = new URL(s.page!.url).pathname.split('/')[2]!;
    const chosen = await s.agent.submit(new URL(`/interaction/${uid}/represent`, s.page!.url), { csrf: field(s.page!.html, 'csrf')!, choice: '0101234567' }, svc.redirectUri);
    const consent = await chosen.res.text();
    expect(consent).toContain('name="decision"');
    expect(consent).toContain('Bạn đăng nhập thay mặt <strong>Công ty TNHH Thương mại Hàng Bạc</strong>');
    expect(consent).toContain('0101234567');
  }, 60_000);

  test('a dissolved company is shown with its reason and cannot be chosen, even by a forged form', async () => {
    const s = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen: 'tran-thi-binh', scope: SCOPE });
    const html = s.page!.html;
    expect(html).toContain('Công ty TNHH Dịch vụ Bến Thành');
    expect(html).toMatch(/value="0312345678" disabled/);
    expect(html).toContain('Doanh nghiệp đã giải thể');
    const uid = new URL(s.page!.url).pathname.split('/')[2]!;
    const forged = await s.agent.request(new URL(`/interaction/${uid}/represent`, s.page!.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: field(html, 'csrf')!, choice: '0312345678' }).toString(),
      redirect: 'manual',
    });
    expect(forged.status).toBe(400);
  }, 60_000);

  test('a person the registries know no organisation of is not asked: the sign-in goes on as themselves', async () => {
    const s = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen: 'le-hoang-cuong', scope: SCOPE, consent: 'accept' });
    expect(s.pages).toEqual(['chooser', 'source-picker', 'consent']);
    const tokens = await redeemFederated(config, s);
    expect(tokens.claims()!.organisation).toBeUndefined();
  }, 60_000);

  test('acting for oneself: no organisation in the tokens', async () => {
    const s = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an', scope: SCOPE, represent: 'self', consent: 'accept' });
    const tokens = await redeemFederated(config, s);
    expect(tokens.claims()!.organisation).toBeUndefined();
    expect((tokens as unknown as { authorization_details?: unknown }).authorization_details).toBeUndefined();
  }, 60_000);

  test('the registry down: a plain page offering to continue as oneself, which works', async () => {
    registries.down = true;
    const s = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an', scope: SCOPE });
    expect(s.page?.html).toContain('cơ quan đăng ký doanh nghiệp không trả lời');
    expect(s.page?.html).toContain('value="self"');
    expect(s.page?.html).not.toContain('0101234567');
    const uid = new URL(s.page!.url).pathname.split('/')[2]!;
    const chosen = await s.agent.submit(new URL(`/interaction/${uid}/represent`, s.page!.url), { csrf: field(s.page!.html, 'csrf')!, choice: 'self' }, svc.redirectUri);
    // The person's own profile was agreed to before: straight back to the service, as themselves.
    expect(chosen.stoppedAt).toBeDefined();
    const tokens = await oidc.authorizationCodeGrant(config, new URL(chosen.stoppedAt!), { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce });
    expect(tokens.claims()!.organisation).toBeUndefined();
  }, 60_000);
});

describe('at refresh the registry is asked again', () => {
  async function signedInFor(citizen: string, code: string, extra: Record<string, string> = {}) {
    // prompt=consent: oidc-provider issues a refresh token for offline_access only then.
    const s = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen, scope: SCOPE, represent: code, consent: 'accept', extra: { prompt: 'consent', ...extra } });
    if (!s.stoppedAt) throw new Error(`stopped at ${s.page?.url}: ${s.page?.html.slice(0, 400)}`);
    return redeemFederated(config, s);
  }

  test('still representing: the refresh names the organisation, checked again', async () => {
    const first = await signedInFor('nguyen-van-an', '0101234567');
    const before = registries.calls;
    const refreshed = await oidc.refreshTokenGrant(config, first.refresh_token!);
    expect(registries.calls).toBe(before + 1);
    expect(refreshed.claims()!.organisation).toMatchObject({ enterprise_code: '0101234567' });
  }, 60_000);

  test('a withdrawn mandate ends the refresh with invalid_grant, and the grant with it', async () => {
    const first = await signedInFor('tran-thi-binh', '0101234567');
    registries.data.set(BINH, []);
    await expect(oidc.refreshTokenGrant(config, first.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // The grant is gone: its access token no longer reads userinfo.
    await expect(oidc.fetchUserInfo(config, first.access_token, first.claims()!.sub)).rejects.toBeDefined();
    const { rows } = await tdb.db.query<{ details: Record<string, unknown> }>(`SELECT details FROM audit_events WHERE event = 'REPRESENTATION_ENDED'`);
    expect(rows[0]?.details).toMatchObject({ enterprise: '0101234567', reason: 'withdrawn' });
  }, 60_000);

  test('a company dissolved since ends the refresh', async () => {
    const first = await signedInFor('nguyen-van-an', '0109876543');
    registries.data.set(AN, registries.data.get(AN)!.map((o) => (o.enterprise_code === '0109876543' ? { ...o, status: 'dissolved' as const } : o)));
    await expect(oidc.refreshTokenGrant(config, first.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  }, 60_000);

  test('the registry down at refresh: 503 temporarily_unavailable, and the same refresh token works once it is back', async () => {
    const first = await signedInFor('nguyen-van-an', '0101234567');
    registries.down = true;
    // 503, not an OAuth error of the service's making: openid-client reports the response as it came.
    const err = (await oidc.refreshTokenGrant(config, first.refresh_token!).catch((e: unknown) => e)) as { cause?: Response };
    expect(err.cause?.status).toBe(503);
    expect(await err.cause!.json()).toMatchObject({ error: 'temporarily_unavailable' });
    registries.down = false;
    const refreshed = await oidc.refreshTokenGrant(config, first.refresh_token!);
    expect(refreshed.claims()!.organisation).toMatchObject({ enterprise_code: '0101234567' });
  }, 60_000);
});

describe('Rich Authorization Request for a named mandate', () => {
  const rar = (d: Record<string, unknown>) => ({ authorization_details: JSON.stringify([{ type: 'nixa_representation', ...d }]) });

  test('granted: a tax_filing mandate holder picks the company; the detail is granted with the organisation', async () => {
    const s = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen: 'tran-thi-binh', scope: 'openid profile', extra: rar({ actions: ['tax_filing'] }) });
    expect(s.stoppedAt).toBeUndefined();
    expect(s.page?.html).not.toContain('value="self"');
    const uid = new URL(s.page!.url).pathname.split('/')[2]!;
    const chosen = await s.agent.submit(new URL(`/interaction/${uid}/represent`, s.page!.url), { csrf: field(s.page!.html, 'csrf')!, choice: '0101234567' }, svc.redirectUri);
    const consentHtml = await chosen.res.text();
    const done = await s.agent.submit(new URL(`/interaction/${uid}/consent`, s.page!.url), { csrf: field(consentHtml, 'csrf')!, decision: 'accept', shown: /name="shown" value="([^"]*)"/.exec(consentHtml)?.[1] ?? '' }, svc.redirectUri);
    expect(done.stoppedAt).toBeDefined();
    const tokens = await oidc.authorizationCodeGrant(config, new URL(done.stoppedAt!), { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce });
    const details = (tokens as unknown as { authorization_details: Array<Record<string, unknown>> }).authorization_details;
    // The access token is a JWT for the service's API, carrying the same detail.
    const at = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(at.aud).toBe('https://api.test-service.example/');
    expect(at.authorization_details).toEqual(details);
    // The service's API learns it from nixa/verify.
    const verified = await createVerifier({ issuer: fed.nixa.config.issuer, audience: 'https://api.test-service.example/' }).verifyAccessToken(tokens.access_token);
    expect(verified).toMatchObject({ ok: true, organisation: { enterprise_code: '0101234567', role: 'mandate', tasks: ['tax_filing'] } });
    expect(details).toEqual([expect.objectContaining({ type: 'nixa_representation', actions: ['tax_filing'], identifier: '0101234567', organisation: expect.objectContaining({ role: 'mandate', tasks: ['tax_filing'], valid_until: '2027-12-31' }) })]);
  }, 60_000);

  test('refused: a mandate the person does not hold leaves nothing to choose and only the way back', async () => {
    const s = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen: 'tran-thi-binh', scope: 'openid profile', extra: rar({ actions: ['customs'] }) });
    const html = s.page!.html;
    expect(html).toContain('Bạn không có ủy quyền mà dịch vụ này yêu cầu');
    expect(html).not.toMatch(/name="choice"[^>]*required/);
    expect(html).not.toContain('type="submit">Tiếp tục');
  }, 60_000);

  test('a malformed detail is refused by the authorization endpoint as invalid_authorization_details', async () => {
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: svc.redirectUri, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', state: 's', ...rar({ identifier: 'not-a-code' }) });
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('invalid_authorization_details');
  }, 60_000);
});
