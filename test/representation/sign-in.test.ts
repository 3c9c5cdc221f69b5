// Acting for an organisation, end to end over HTTP with openid-client as the
// service: the choice page after the person's own sign-in, the consent page that
// names the organisation, the `organisation` claim and authorization_details in
// the tokens, the re-check at refresh, RAR for a named mandate, and a registry
// that does not answer.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import * as oidc from 'openid-client';

import { simulatedRegistryRegistration } from '../../src/app/dev-sources.js';
import { addRegistry } from '../../src/registries/index.js';
import { startSimulatedRegistry, type SimulatedRegistry } from '../../src/simulated-registry/index.js';
import { createVerifier } from '../../src/verify/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation } from '../support/federation.js';
import { field } from '../support/pages.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';

// The simulated business registry's seed (src/simulated-registry/seed.ts, README "Test citizens").
const BINH = '079192038561';
const SONG_HONG = '0108523417'; // An is its legal representative; Bình holds its tax_filing + social_insurance mandate
const HOAN_KIEM = '0106791235'; // An's second company
const BEN_THANH = '0312456780'; // Bình's, dissolved

const METRICS_TOKEN = 'representation-test-metrics-token';
let tdb: TestDatabase;
let fed: Federation;
let registry: SimulatedRegistry;
let svc: TestClient;
let config: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb, { NIXA_METRICS_TOKEN: METRICS_TOKEN });
  // The registry as npm start runs it: a real HTTP service, registered in nixa as an operator would.
  const secret = randomBytes(24).toString('base64url');
  registry = await startSimulatedRegistry({ clients: [{ client_id: 'nixa', client_secret: secret }] });
  await addRegistry(tdb.db, fed.nixa.cipher, simulatedRegistryRegistration(registry, secret), 'test', { allowHttpLoopback: true, reason: 'test registry' });
  await fed.nixa.registryCatalogue.refresh();
  svc = await registerTestClient(tdb.db, {
    scope: 'openid profile offline_access representation',
    representation: ['legal_representative', 'mandate:tax_filing'],
    // RAR details are about the service's API: its access tokens are for it.
    api_resource: 'https://api.test-service.example/',
  });
  config = await discover(fed.nixa.config.issuer, svc);
}, 120_000);

afterAll(async () => {
  await registry?.close();
  await fed?.close();
  await tdb?.drop();
});

beforeEach(() => registry.reset());

const SCOPE = 'openid profile offline_access representation';

describe('choosing whom to act for (representation scope)', () => {
  test('a person who represents two companies picks one: the tokens name only that one', async () => {
    const s = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an', scope: SCOPE, represent: HOAN_KIEM, consent: 'accept' });
    expect(s.pages).toEqual(['chooser', 'source-picker', 'representation', 'consent']);
    expect(s.stoppedAt).toBeDefined();
    const tokens = await redeemFederated(config, s);
    const claims = tokens.claims()!;
    expect(claims.organisation).toMatchObject({ enterprise_code: HOAN_KIEM, name: 'Công ty Cổ phần Thực phẩm Hoàn Kiếm', status: 'active', role: 'legal_representative', registry: 'sim-business-registry' });
    expect(JSON.stringify(claims)).not.toContain(SONG_HONG);
    expect(typeof (claims.organisation as { checked_at: unknown }).checked_at).toBe('number');
    const details = (tokens as unknown as { authorization_details?: Array<Record<string, unknown>> }).authorization_details;
    expect(details).toHaveLength(1);
    expect(details![0]).toMatchObject({ type: 'nixa_representation', identifier: HOAN_KIEM });
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info.organisation).toMatchObject({ enterprise_code: HOAN_KIEM });
    // Audited with both parties: the person (subject) and the organisation.
    const { rows } = await tdb.db.query<{ subject: string; details: Record<string, unknown> }>(`SELECT subject, details FROM audit_events WHERE event = 'REPRESENTATION_CHOSEN'`);
    expect(rows.find((r) => r.details.enterprise === HOAN_KIEM)).toMatchObject({ subject: claims.sub, details: { client: svc.clientId, role: 'legal_representative', via: 'scope' } });
    // nixa/verify hands the service the organisation as result.organisation.
    const verified = await createVerifier({ issuer: fed.nixa.config.issuer, audience: svc.clientId }).verifyIdToken(tokens.id_token!);
    expect(verified).toMatchObject({ ok: true, organisation: { enterprise_code: HOAN_KIEM, role: 'legal_representative' } });
  }, 60_000);

  test('the choice page shows both companies; the consent page names the chosen one', async () => {
    const s = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an', scope: SCOPE });
    expect(s.page?.html).toContain('Công ty TNHH Phần mềm Sông Hồng');
    expect(s.page?.html).toContain('Công ty Cổ phần Thực phẩm Hoàn Kiếm');
    expect(s.page?.html).toContain('value="self"');
    expect(s.page?.html).toContain('Cơ quan đăng ký kinh doanh (mô phỏng) cung cấp lúc');
    const uid = new URL(s.page!.url).pathname.split('/')[2]!;
    const chosen = await s.agent.submit(new URL(`/interaction/${uid}/represent`, s.page!.url), { csrf: field(s.page!.html, 'csrf')!, choice: SONG_HONG }, svc.redirectUri);
    const consent = await chosen.res.text();
    expect(consent).toContain('name="decision"');
    expect(consent).toContain('Bạn đăng nhập thay mặt <strong>Công ty TNHH Phần mềm Sông Hồng</strong>');
    expect(consent).toContain(SONG_HONG);
  }, 60_000);

  test('a dissolved company is shown with its reason and cannot be chosen, even by a forged form', async () => {
    const s = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen: 'tran-thi-binh', scope: SCOPE });
    const html = s.page!.html;
    expect(html).toContain('Công ty TNHH Thương mại Bến Thành');
    expect(html).toContain(`value="${BEN_THANH}" disabled`);
    expect(html).toContain('Doanh nghiệp đã giải thể');
    const uid = new URL(s.page!.url).pathname.split('/')[2]!;
    const forged = await s.agent.request(new URL(`/interaction/${uid}/represent`, s.page!.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: field(html, 'csrf')!, choice: BEN_THANH }).toString(),
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
    registry.misbehave({ mode: 'down' });
    const s = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an', scope: SCOPE });
    expect(s.page?.html).toContain('cơ quan đăng ký doanh nghiệp không trả lời');
    expect(s.page?.html).toContain('value="self"');
    expect(s.page?.html).not.toContain(SONG_HONG);
    // No "as of" line for a list that no registry gave.
    expect(s.page?.html).not.toContain('cung cấp lúc');
    // Operators see it: the failure is counted by registry and reason.
    const metrics = await (await fetch(new URL('/metrics', fed.nixa.config.issuer), { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    expect(metrics).toMatch(/nixa_registry_failures_total\{registry="sim-business-registry",reason="status"[^}]*\} [1-9]/);
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
    const first = await signedInFor('nguyen-van-an', SONG_HONG);
    const before = registry.requests();
    const refreshed = await oidc.refreshTokenGrant(config, first.refresh_token!);
    expect(registry.requests()).toBe(before + 1);
    expect(refreshed.claims()!.organisation).toMatchObject({ enterprise_code: SONG_HONG });
  }, 60_000);

  test('a withdrawn mandate ends the refresh with invalid_grant, and the grant with it', async () => {
    const first = await signedInFor('tran-thi-binh', SONG_HONG);
    registry.withdrawMandate(BINH, SONG_HONG);
    await expect(oidc.refreshTokenGrant(config, first.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // The grant is gone: its access token no longer reads userinfo.
    await expect(oidc.fetchUserInfo(config, first.access_token, first.claims()!.sub)).rejects.toBeDefined();
    const { rows } = await tdb.db.query<{ details: Record<string, unknown> }>(`SELECT details FROM audit_events WHERE event = 'REPRESENTATION_ENDED'`);
    expect(rows[0]?.details).toMatchObject({ enterprise: SONG_HONG, reason: 'withdrawn' });
  }, 60_000);

  test('a company dissolved since ends the refresh', async () => {
    const first = await signedInFor('nguyen-van-an', HOAN_KIEM);
    registry.setStatus(HOAN_KIEM, 'dissolved');
    await expect(oidc.refreshTokenGrant(config, first.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  }, 60_000);

  test('the registry down at refresh: 503 temporarily_unavailable, and the same refresh token works once it is back', async () => {
    const first = await signedInFor('nguyen-van-an', SONG_HONG);
    registry.misbehave({ mode: 'down' });
    // 503, not an OAuth error of the service's making: openid-client reports the response as it came.
    const err = (await oidc.refreshTokenGrant(config, first.refresh_token!).catch((e: unknown) => e)) as { cause?: Response };
    expect(err.cause?.status).toBe(503);
    expect(await err.cause!.json()).toMatchObject({ error: 'temporarily_unavailable' });
    registry.misbehave({ mode: 'normal' });
    const refreshed = await oidc.refreshTokenGrant(config, first.refresh_token!);
    expect(refreshed.claims()!.organisation).toMatchObject({ enterprise_code: SONG_HONG });
  }, 60_000);
});

describe('Rich Authorization Request for a named mandate', () => {
  const rar = (d: Record<string, unknown>) => ({ authorization_details: JSON.stringify([{ type: 'nixa_representation', ...d }]) });

  test('granted: a tax_filing mandate holder picks the company; the detail is granted with the organisation', async () => {
    const s = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen: 'tran-thi-binh', scope: 'openid profile', extra: rar({ actions: ['tax_filing'] }) });
    expect(s.stoppedAt).toBeUndefined();
    expect(s.page?.html).not.toContain('value="self"');
    const uid = new URL(s.page!.url).pathname.split('/')[2]!;
    const chosen = await s.agent.submit(new URL(`/interaction/${uid}/represent`, s.page!.url), { csrf: field(s.page!.html, 'csrf')!, choice: SONG_HONG }, svc.redirectUri);
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
    expect(verified).toMatchObject({ ok: true, organisation: { enterprise_code: SONG_HONG, role: 'mandate', tasks: ['tax_filing'] } });
    expect(details).toEqual([expect.objectContaining({ type: 'nixa_representation', actions: ['tax_filing'], identifier: SONG_HONG, organisation: expect.objectContaining({ role: 'mandate', tasks: ['tax_filing'], valid_until: '2027-06-30' }) })]);
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

test("README's example of the organisation claim is what nixa gives (all but checked_at)", async () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Acting for an organisation'));
  const example = JSON.parse(`{${/```json\n([\s\S]*?)\n```/.exec(section)![1]!}}`) as { organisation: Record<string, unknown> };
  const s = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen: 'tran-thi-binh', scope: SCOPE, represent: SONG_HONG, consent: 'accept' });
  const { checked_at: _at, ...claim } = (await redeemFederated(config, s)).claims()!.organisation as Record<string, unknown>;
  const { checked_at: _example, ...expected } = example.organisation;
  expect(claim).toEqual(expected);
}, 60_000);

test('the legal representative sees on /account who signed in for the company, and a mandated person does not see the others', async () => {
  // Bình signs in for Sông Hồng under her mandate; An is its legal representative.
  const binh = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen: 'tran-thi-binh', scope: SCOPE, represent: SONG_HONG, consent: 'accept' });
  await redeemFederated(config, binh);
  const an = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an', scope: SCOPE, represent: 'self', consent: 'accept' });
  await redeemFederated(config, an);
  const page = await (await an.agent.request(new URL('/account', fed.nixa.config.issuer))).text();
  const section = page.slice(page.indexOf('id="organisations-heading"'));
  expect(section).toContain('Doanh nghiệp bạn đại diện');
  expect(section).toContain(`Công ty TNHH Phần mềm Sông Hồng <span lang="en">(Song Hong Software Company Limited)</span> — ${SONG_HONG}`);
  expect(section).toContain('Trần Thị Bình');
  expect(section).toContain('khai và nộp thuế');
  // Bình holds only a mandate of Sông Hồng: she does not see who else acted for it. She is the legal
  // representative of her own (dissolved) company, for which nobody has acted.
  const hers = await (await binh.agent.request(new URL('/account', fed.nixa.config.issuer))).text();
  expect(hers).not.toContain(SONG_HONG);
  expect(hers.slice(hers.indexOf(`— ${BEN_THANH}`))).toMatch(/^[^<]*<\/h3>\s*<p>Chưa có ai đăng nhập thay mặt doanh nghiệp này/);
}, 60_000);
