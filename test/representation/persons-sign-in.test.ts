// Persons acting for persons, end to end over HTTP with openid-client as the
// service: a parent for their child under 14 (the relation as the simulated
// citizen-ID source names it), refused at 14 or over; a helper a citizen
// authorised at /account, used, then revoked by the citizen (the grant ends at
// once, the next sign-in no longer offers it). The token's `sub` is the
// represented person's (pairwise), `act.sub` the actor's subject for the service.
import { readFileSync } from 'node:fs';

import * as oidc from 'openid-client';

import { accountIdByNationalId, recordWards, type AccountsContext } from '../../src/accounts/index.js';
import { authorise, revoke } from '../../src/delegation/index.js';
import { createVerifier } from '../../src/verify/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, signedInAgent, startFederation, type Federation } from '../support/federation.js';
import { field, pagesAt } from '../support/pages.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';

// Seeded (src/simulated-sources/citizens.ts, families.ts).
const KHOI = { id: '001216073942', name: 'Nguyễn Minh Khôi', birthdate: '2016-05-20' }; // An's son, under 14
const TRANG = { id: '001311058126', name: 'Nguyễn Thu Trang' }; // An's daughter, 14 or over
const CUONG_ID = '048201007396';

const SCOPE = 'openid profile offline_access representation';
const API = 'https://api.cong-dich-vu.example/';

let tdb: TestDatabase;
let fed: Federation;
let svc: TestClient;
let config: oidc.Configuration;
let orgOnly: { client: TestClient; config: oidc.Configuration };

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  // Pairwise, as a public service would be: act.sub must be the actor's subject for this service.
  svc = await registerTestClient(tdb.db, { name: 'Cổng dịch vụ công (thử)', scope: SCOPE, subject_type: 'pairwise', representation: ['guardian', 'helper'], api_resource: API });
  config = await discover(fed.nixa.config.issuer, svc);
  const c = await registerTestClient(tdb.db, { name: 'Cổng doanh nghiệp (thử)', scope: SCOPE, subject_type: 'pairwise', representation: ['legal_representative'] });
  orgOnly = { client: c, config: await discover(fed.nixa.config.issuer, c) };
}, 120_000);

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

const accountsOf = (): AccountsContext => ({ db: tdb.db, cipher: fed.nixa.cipher, pepper: fed.nixa.cipher.derive('national-id-hash') });
const { get, post } = pagesAt(() => fed.nixa.config.issuer);
const uidOf = (url: string) => new URL(url).pathname.split('/')[2]!;
/** The value of the radio labelled with `name` on the choice page. */
function choiceFor(html: string, name: string): { value: string; disabled: boolean } {
  const item = html.split('<li>').find((li) => li.includes(name));
  if (!item) throw new Error(`${name} is not on the page`);
  return { value: /value="([^"]+)"/.exec(item)![1]!, disabled: / disabled/.test(item.split('>')[0]!) };
}

async function ownSub(citizen: string): Promise<string> {
  const s = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen, scope: SCOPE, represent: 'self', consent: 'accept' });
  const t = await redeemFederated(config, s);
  expect(t.claims()!.act).toBeUndefined();
  return t.claims()!.sub;
}

/** Signs `citizen` in, chooses the person named `name` on the choice page, accepts; returns the tokens. */
async function actFor(citizen: string, name: string, o: { extra?: Record<string, string>; tokenParams?: Record<string, string> } = {}) {
  // prompt=consent: oidc-provider issues a refresh token for offline_access only then.
  const s = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen, scope: SCOPE, extra: { prompt: 'consent', ...o.extra } });
  expect(s.page?.html).toContain('name="choice"');
  const choice = choiceFor(s.page!.html, name);
  expect(choice.disabled).toBe(false);
  const chosen = await s.agent.submit(new URL(`/interaction/${uidOf(s.page!.url)}/represent`, s.page!.url), { csrf: field(s.page!.html, 'csrf')!, choice: choice.value }, svc.redirectUri);
  const consent = await chosen.res.text();
  expect(consent).toContain(`Bạn đăng nhập thay mặt <strong>${name}</strong>`);
  const agreed = await s.agent.submit(new URL(`/interaction/${uidOf(chosen.url)}/consent`, chosen.url), { csrf: field(consent, 'csrf')!, decision: 'accept', shown: field(consent, 'shown') ?? '' }, svc.redirectUri);
  expect(agreed.stoppedAt).toBeDefined();
  const tokens = await oidc.authorizationCodeGrant(config, new URL(agreed.stoppedAt!), { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce }, o.tokenParams);
  return { tokens, page: s.page!.html, consent };
}

describe('a parent acting for their child', () => {
  test('the choice page offers the son under 14 and shows the daughter of 14 or over, who cannot be chosen', async () => {
    const s = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an', scope: SCOPE });
    const html = s.page!.html;
    expect(html).toContain('value="self"');
    expect(choiceFor(html, KHOI.name).disabled).toBe(false);
    expect(choiceFor(html, TRANG.name).disabled).toBe(true);
    expect(html).toContain('Đã đủ 14 tuổi');
    // No child's ID number on the page or in the form.
    expect(html).not.toContain(KHOI.id);
    expect(html).not.toContain(TRANG.id);
    // A forged form for the daughter is refused: nixa reads the relation again, never the page.
    const forged = await s.agent.request(new URL(`/interaction/${uidOf(s.page!.url)}/represent`, s.page!.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: field(html, 'csrf')!, choice: choiceFor(html, TRANG.name).value }).toString(),
      redirect: 'manual',
    });
    expect(forged.status).toBe(400);
  }, 60_000);

  test("the tokens are the child's: sub is the child's (pairwise), act.sub the parent's subject at this service", async () => {
    const anOwn = await ownSub('nguyen-van-an');
    const { tokens, consent } = await actFor('nguyen-van-an', KHOI.name);
    // The consent page shows the child's details, not the parent's.
    expect(consent).toContain('Nguyễn Minh Khôi');
    expect(consent).toContain('20/05/2016');
    const claims = tokens.claims()!;
    expect(claims.sub).not.toBe(anOwn);
    expect(claims.act).toEqual({ sub: anOwn });
    expect(claims.name).toBe(KHOI.name);
    expect(claims.birthdate).toBe(KHOI.birthdate);
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ sub: claims.sub, act: { sub: anOwn }, name: KHOI.name });
    // The same child is the same subject at the next sign-in (one account, keyed by the number).
    const again = await actFor('nguyen-van-an', KHOI.name);
    expect(again.tokens.claims()!.sub).toBe(claims.sub);
    // nixa/verify hands the service the actor.
    const verified = await createVerifier({ issuer: fed.nixa.config.issuer, audience: svc.clientId }).verifyIdToken(tokens.id_token!);
    expect(verified).toMatchObject({ ok: true, act: { sub: anOwn } });
    // Introspection says the same: the child is the subject, the parent acts.
    const intro = await oidc.tokenIntrospection(config, tokens.access_token);
    expect(intro).toMatchObject({ active: true, sub: claims.sub, act: { sub: anOwn } });
    // Audited with both people: the parent's act and the child's "acted for by".
    const { rows } = await tdb.db.query<{ event: string; subject: string; details: Record<string, unknown> }>(
      `SELECT event, subject, details FROM audit_events WHERE event IN ('ACTING_FOR_CHOSEN', 'ACTED_FOR_BY') ORDER BY seq`,
    );
    const chosen = rows.find((r) => r.event === 'ACTING_FOR_CHOSEN')!;
    const actedFor = rows.find((r) => r.event === 'ACTED_FOR_BY')!;
    expect(chosen.details).toMatchObject({ client: svc.clientId, relation: 'guardian' });
    expect(actedFor.subject).toBe(chosen.details.represented_account);
    expect(actedFor.details).toMatchObject({ actor_account: chosen.subject, relation: 'guardian' });
    expect(JSON.stringify(rows)).not.toContain(KHOI.id);
  }, 90_000);

  test("README's example of a token acting for a child has the shape nixa gives", async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Acting for a person'));
    const example = JSON.parse(/```json\n([\s\S]*?)```/.exec(section)![1]!) as Record<string, unknown>;
    const { tokens } = await actFor('nguyen-van-an', KHOI.name);
    const claims = tokens.claims()! as Record<string, unknown>;
    for (const [k, v] of Object.entries(example)) {
      expect(claims).toHaveProperty(k);
      if (k === 'name' || k === 'birthdate' || k === 'acr') expect(claims[k]).toBe(v);
    }
    expect(Object.keys(example.act as object)).toEqual(Object.keys(claims.act as object));
  }, 60_000);

  test("the service's API gets a JWT access token whose sub is the child's and act the parent's, through nixa/verify", async () => {
    const { tokens } = await actFor('nguyen-van-an', KHOI.name, { extra: { resource: API }, tokenParams: { resource: API } });
    const idClaims = tokens.claims()!;
    const at = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(at.aud).toBe(API);
    expect(at.sub).toBe(idClaims.sub);
    expect(at.act).toEqual(idClaims.act);
    const verified = await createVerifier({ issuer: fed.nixa.config.issuer, audience: API }).verifyAccessToken(tokens.access_token);
    expect(verified).toMatchObject({ ok: true, claims: { sub: idClaims.sub }, act: idClaims.act });
  }, 60_000);

  test('the refresh ends with invalid_grant once the source no longer names the child, and the grant is gone', async () => {
    const { tokens } = await actFor('nguyen-van-an', KHOI.name);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.claims()!.act).toBeDefined();
    // What the source says at the parent's next sign-in replaces what it said: here, no children.
    const { rows } = await tdb.db.query<{ id: string }>(`SELECT subject AS id FROM audit_events WHERE event = 'ACTING_FOR_CHOSEN' ORDER BY seq DESC LIMIT 1`);
    await tdb.db.transaction((tx) => recordWards(accountsOf(), tx, rows[0]!.id, 'sim-citizen-id', []));
    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.fetchUserInfo(config, refreshed.access_token, oidc.skipSubjectCheck)).rejects.toBeDefined();
    const ended = await tdb.db.query<{ details: Record<string, unknown> }>(`SELECT details FROM audit_events WHERE event = 'ACTING_FOR_ENDED'`);
    expect(ended.rows.at(-1)!.details).toMatchObject({ relation: 'guardian', reason: 'no-longer-asserted' });
  }, 90_000);

  test('a relation the source has not said again for over 30 days: the refresh ends, and the child waits for a sign-in through the citizen-ID source', async () => {
    const { tokens } = await actFor('nguyen-van-an', KHOI.name);
    await tdb.db.query(`UPDATE account_wards SET asserted_at = now() - interval '31 days'`);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const ended = await tdb.db.query<{ details: Record<string, unknown> }>(`SELECT details FROM audit_events WHERE event = 'ACTING_FOR_ENDED' ORDER BY seq DESC LIMIT 1`);
    expect(ended.rows[0]!.details).toMatchObject({ relation: 'guardian', reason: 'relation-not-confirmed' });
    // Through the telecom (which says nothing of children) Khôi is shown, to be confirmed, not offered.
    const s = await federatedSignIn(config, svc.redirectUri, { source: 'telecom', citizen: 'nguyen-van-an', scope: SCOPE });
    expect(choiceFor(s.page!.html, KHOI.name).disabled).toBe(true);
    expect(s.page!.html).toContain('chưa được xác nhận lại trong 30 ngày qua');
    // Through the citizen-ID source the relation is said again, and Khôi can be chosen.
    const again = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an', scope: SCOPE });
    expect(choiceFor(again.page!.html, KHOI.name).disabled).toBe(false);
  }, 90_000);

  test('a service that stops accepting parents: the next refresh of a token acting for the child ends with invalid_grant', async () => {
    const { tokens } = await actFor('nguyen-van-an', KHOI.name);
    const { updateClient } = await import('../../src/clients/index.js');
    await updateClient(tdb.db, svc.clientId, { representation: ['helper'] }, 'test', { allowHttpLoopback: true, reason: 'test: parents no longer' });
    try {
      // Every instance hears of the change by notification: the refresh is refused once this one has.
      let refresh = tokens.refresh_token!;
      let refused: unknown;
      for (let i = 0; i < 50 && !refused; i++) {
        try {
          refresh = (await oidc.refreshTokenGrant(config, refresh)).refresh_token!;
          await new Promise((r) => setTimeout(r, 100));
        } catch (err) {
          refused = err;
        }
      }
      expect(refused).toMatchObject({ error: 'invalid_grant' });
      const ended = await tdb.db.query<{ details: Record<string, unknown> }>(`SELECT details FROM audit_events WHERE event = 'ACTING_FOR_ENDED' ORDER BY seq DESC LIMIT 1`);
      expect(ended.rows[0]!.details).toMatchObject({ relation: 'guardian', reason: 'service-no-longer-accepts' });
    } finally {
      await updateClient(tdb.db, svc.clientId, { representation: ['guardian', 'helper'] }, 'test', { allowHttpLoopback: true, reason: 'test: parents again' });
      await new Promise((r) => setTimeout(r, 500));
    }
  }, 60_000);

  test('a service that does not accept parents never offers the child', async () => {
    const s = await federatedSignIn(orgOnly.config, orgOnly.client.redirectUri, { source: 'citizen_id', citizen: 'pham-thi-dung', scope: SCOPE });
    expect(s.page?.html ?? '').not.toContain('Vũ Ngọc Anh');
  }, 60_000);
});

describe('a helper a citizen authorised', () => {
  /** A day `days` after today in Vietnam, YYYY-MM-DD. */
  const dayAhead = (days: number) => new Date(Date.now() + 7 * 3600_000 + days * 86_400_000).toISOString().slice(0, 10);

  test('authorised at /account, used (sub is the grantor, act the helper), revoked: the grant ends and the next sign-in is refused', async () => {
    const cuongOwn = await ownSub('le-hoang-cuong');
    // Bình (the grantor) at substantial or above, at /account/helpers.
    const binh = await signedInAgent(config, svc.redirectUri, { source: 'citizen_id', citizen: 'tran-thi-binh' });
    const form = await get(binh, '/account/helpers');
    const given = await post(binh, '/account/helpers', { csrf: field(form.html, 'csrf')!, helper_national_id: CUONG_ID, clients: svc.clientId, valid_until: dayAhead(30) });
    expect(given.res.status).toBeLessThan(400);
    const { rows } = await tdb.db.query<{ id: string }>('SELECT id FROM delegations ORDER BY created_at DESC LIMIT 1');
    const delegationId = rows[0]!.id;

    const { tokens, page } = await actFor('le-hoang-cuong', 'Trần Thị Bình');
    expect(page).toContain('Đã cho phép bạn giúp tại dịch vụ này');
    const claims = tokens.claims()!;
    expect(claims.name).toBe('Trần Thị Bình');
    expect(claims.act).toEqual({ sub: cuongOwn });
    expect(claims.sub).not.toBe(cuongOwn);

    // Bình revokes at /account: at once, the grant and its tokens end.
    const list = await get(binh, '/account/helpers');
    const revoked = await post(binh, `/account/helpers/${delegationId}/revoke`, { csrf: field(list.html, 'csrf')!, as: 'grantor' });
    expect(revoked.res.status).toBeLessThan(400);
    // Ended by the revocation itself, before any use of the tokens: the grant is gone from storage.
    const acting = await tdb.db.query<{ grant_id: string }>('SELECT grant_id FROM acting_for WHERE delegation_id = $1', [delegationId]);
    expect(acting.rows).toHaveLength(1);
    const left = await tdb.db.query('SELECT 1 FROM oidc_payloads WHERE id = $1 OR grant_id = $1', [acting.rows[0]!.grant_id]);
    expect(left.rows).toHaveLength(0);
    await expect(oidc.fetchUserInfo(config, tokens.access_token, oidc.skipSubjectCheck)).rejects.toBeDefined();
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    // The next sign-in no longer offers Bình, and a forged choice of her is refused.
    const next = await federatedSignIn(config, svc.redirectUri, { source: 'citizen_id', citizen: 'le-hoang-cuong', scope: SCOPE, extra: { prompt: 'consent' } });
    expect(next.page?.html ?? '').not.toContain('Trần Thị Bình');
    expect(next.page?.html ?? '').toContain('name="decision"'); // straight to consent: nobody to act for
    const forged = await next.agent.request(new URL(`/interaction/${uidOf(next.page!.url)}/represent`, next.page!.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: field(next.page!.html, 'csrf')!, choice: `helper:${delegationId}` }).toString(),
      redirect: 'manual',
    });
    expect(forged.status).toBe(400);
  }, 120_000);
  test('an authorisation ended without its grants being ended (by its own record) still ends the next refresh: every use checks it', async () => {
    const accounts = accountsOf();
    await signedInAgent(config, svc.redirectUri, { source: 'citizen_id', citizen: 'tran-thi-binh' }); // her account, whatever ran before
    const binhId = (await accountIdByNationalId(accounts, '079192038561'))!;
    const d = await authorise(accounts, { grantorId: binhId, helperNationalId: CUONG_ID, clients: [svc.clientId], validUntil: dayAhead(10), level: 'high' }, dayAhead(0));
    const { tokens } = await actFor('le-hoang-cuong', 'Trần Thị Bình');
    // Revoked in the store only: the route's ending of the grants is not run here.
    await revoke(accounts, d.id, { accountId: binhId, as: 'grantor' });
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const ended = await tdb.db.query<{ details: Record<string, unknown> }>(`SELECT details FROM audit_events WHERE event = 'ACTING_FOR_ENDED' ORDER BY seq DESC LIMIT 1`);
    expect(ended.rows[0]!.details).toMatchObject({ relation: 'helper', reason: 'authorisation-ended', delegation: d.id });
  }, 90_000);
});
