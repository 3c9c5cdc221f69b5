// What a service receives, over real HTTP with the real simulated sources and
// openid-client as the service: only claims of scopes it is registered for, that
// it asked for, and that the citizen saw with a value and accepted. Every path
// that fills a grant is attacked — the consent page, a remembered consent at
// sign-in, single sign-on with an existing grant, refresh and userinfo — not
// only the page.
import * as oidc from 'openid-client';

import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation, type FederatedSignIn } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';

let tdb: TestDatabase;
let fed: Federation;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

async function service(scope: string): Promise<{ client: TestClient; config: oidc.Configuration }> {
  const client = await registerTestClient(tdb.db, { name: 'Cổng dịch vụ công tỉnh Bắc Ninh', scope, token_endpoint_auth_method: 'client_secret_basic' });
  return { client, config: await discover(fed.nixa.config.issuer, client) };
}

async function userinfo(config: oidc.Configuration, accessToken: string, sub: string): Promise<Record<string, unknown>> {
  return (await oidc.fetchUserInfo(config, accessToken, sub)) as Record<string, unknown>;
}

function finished(s: FederatedSignIn): FederatedSignIn {
  if (!s.stoppedAt) throw new Error(`sign-in stopped at ${s.page?.status} ${s.page?.url}: ${s.page?.html.slice(0, 600)}`);
  return s;
}

/** The rows of the consent page: the English label of each claim and what the page shows for it. */
function consentRows(html: string): Record<string, string> {
  return Object.fromEntries(
    [...html.matchAll(/<tr><th scope="row">[^<]*<span lang="en">\(([^)]+)\)<\/span><\/th><td>(.*?)<\/td><\/tr>/g)].map((m) => [m[1]!, m[2]!]),
  );
}

const NAMED = JSON.stringify({
  id_token: { national_id: null, phone_number: null },
  userinfo: { national_id: null, phone_number: null },
});
const UNREGISTERED = ['national_id', 'phone_number', 'phone_number_verified'];

describe('a service registered for openid profile that names national_id in the claims parameter', () => {
  it('gets neither national_id nor phone_number, in the ID token or at userinfo, after the consent page', async () => {
    const svc = await service('openid profile');
    const asked = await federatedSignIn(svc.config, svc.client.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an', scope: 'openid profile', extra: { claims: NAMED } });
    // The page lists the profile, nothing else.
    expect(Object.keys(consentRows(asked.page!.html))).toEqual(['Full name', 'Date of birth', 'Gender', 'Place of origin']);
    const s = finished(
      await federatedSignIn(svc.config, svc.client.redirectUri, { agent: asked.agent, consent: 'accept', scope: 'openid profile', extra: { claims: NAMED } }),
    );
    expect(s.pages).toEqual(['consent']);
    const tokens = await redeemFederated(svc.config, s);
    const idToken = tokens.claims()!;
    expect(idToken.name).toBe('Nguyễn Văn An');
    for (const c of UNREGISTERED) expect([c, idToken[c]]).toEqual([c, undefined]);
    const info = await userinfo(svc.config, tokens.access_token, idToken.sub);
    expect(info.birthdate).toBe('1985-03-14');
    for (const c of UNREGISTERED) expect([c, info[c]]).toEqual([c, undefined]);
    // The grant itself holds none of them: it is what every later token is cut from.
    const { rows } = await tdb.db.query<{ claims: string[] | null }>(
      "SELECT payload->'openid'->'claims' AS claims FROM oidc_payloads WHERE model = 'Grant' AND payload->>'clientId' = $1",
      [svc.client.clientId],
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) for (const c of UNREGISTERED) expect(r.claims ?? []).not.toContain(c);
  });

  it('gets neither with a remembered consent, at a new sign-in and under single sign-on', async () => {
    const svc = await service('openid profile');
    const first = finished(
      await federatedSignIn(svc.config, svc.client.redirectUri, { source: 'citizen_id', citizen: 'le-hoang-cuong', consent: 'accept', scope: 'openid profile' }),
    );
    await redeemFederated(svc.config, first);

    // A new browser: the citizen signs in at the source again and the consent is remembered (no page).
    const fresh = finished(
      await federatedSignIn(svc.config, svc.client.redirectUri, { source: 'citizen_id', citizen: 'le-hoang-cuong', scope: 'openid profile', extra: { claims: NAMED } }),
    );
    expect(fresh.pages).toEqual(['chooser', 'source-picker']);
    // The same browser: single sign-on, an existing grant for this service.
    const sso = finished(await federatedSignIn(svc.config, svc.client.redirectUri, { agent: first.agent, scope: 'openid profile', extra: { claims: NAMED } }));
    expect(sso.pages).toEqual([]);

    for (const s of [fresh, sso]) {
      const tokens = await redeemFederated(svc.config, s);
      const idToken = tokens.claims()!;
      expect(idToken.name).toBe('Lê Hoàng Cường');
      for (const c of UNREGISTERED) expect([c, idToken[c]]).toEqual([c, undefined]);
      const info = await userinfo(svc.config, tokens.access_token, idToken.sub);
      for (const c of UNREGISTERED) expect([c, info[c]]).toEqual([c, undefined]);
    }
  });
});

describe('the release itself', () => {
  it('withholds what the consent does not cover even when the grant holds it (a grant filled before this rule)', async () => {
    const svc = await service('openid offline_access profile');
    const s = finished(
      await federatedSignIn(svc.config, svc.client.redirectUri, {
        source: 'citizen_id',
        citizen: 'nguyen-van-an',
        consent: 'accept',
        scope: 'openid offline_access profile',
        // offline_access is granted only with prompt=consent (OIDC Core §11).
        extra: { claims: NAMED, prompt: 'consent' },
      }),
    );
    const tokens = await redeemFederated(svc.config, s);
    // The grant as the code before this rule filled it: the named claims granted, nothing rejected.
    const { rowCount } = await tdb.db.query(
      `UPDATE oidc_payloads SET payload = jsonb_set(payload - 'rejected', '{openid,claims}', '["sub", "national_id", "phone_number", "phone_number_verified"]')
       WHERE model = 'Grant' AND payload->>'clientId' = $1`,
      [svc.client.clientId],
    );
    expect(rowCount).toBe(1);
    const refreshed = await oidc.refreshTokenGrant(svc.config, tokens.refresh_token!);
    expect(refreshed.claims()!.name).toBe('Nguyễn Văn An');
    for (const c of UNREGISTERED) expect([c, refreshed.claims()![c]]).toEqual([c, undefined]);
    for (const at of [tokens.access_token, refreshed.access_token]) {
      const info = await userinfo(svc.config, at, refreshed.claims()!.sub);
      expect(info.name).toBe('Nguyễn Văn An');
      for (const c of UNREGISTERED) expect([c, info[c]]).toEqual([c, undefined]);
    }
  });
});

describe('prompt=consent', () => {
  it('shows the consent page even when consent is remembered, under single sign-on and at a new sign-in', async () => {
    const svc = await service('openid profile');
    const first = finished(
      await federatedSignIn(svc.config, svc.client.redirectUri, { source: 'citizen_id', citizen: 'pham-thi-dung', consent: 'accept', scope: 'openid profile' }),
    );
    await redeemFederated(svc.config, first);

    const sso = await federatedSignIn(svc.config, svc.client.redirectUri, { agent: first.agent, scope: 'openid profile', extra: { prompt: 'consent' } });
    expect(sso.stoppedAt).toBeUndefined();
    expect(sso.page?.html).toContain('name="decision"');
    expect(consentRows(sso.page!.html)).toMatchObject({ 'Full name': 'Phạm Thị Dung' });

    const fresh = await federatedSignIn(svc.config, svc.client.redirectUri, {
      source: 'citizen_id',
      citizen: 'pham-thi-dung',
      scope: 'openid profile',
      extra: { prompt: 'consent' },
    });
    expect(fresh.stoppedAt).toBeUndefined();
    expect(fresh.pages).toEqual(['chooser', 'source-picker']);
    expect(fresh.page?.html).toContain('name="decision"');

    // Answering it completes the sign-in as usual.
    const accepted = finished(
      await federatedSignIn(svc.config, svc.client.redirectUri, { agent: first.agent, consent: 'accept', scope: 'openid profile', extra: { prompt: 'consent' } }),
    );
    expect(accepted.pages).toEqual(['consent']);
    expect((await redeemFederated(svc.config, accepted)).claims()!.name).toBe('Phạm Thị Dung');
  });
});

describe('a claim shown as "Chưa có (not on record)" that gains a value later', () => {
  it('is not released when it appears, and the service must ask again', async () => {
    const svc = await service('openid offline_access profile phone');
    const scope = 'openid offline_access profile phone';
    // Signed in through the citizen-ID source, which knows no phone number: the page says so.
    const first = await federatedSignIn(svc.config, svc.client.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an', scope, extra: { prompt: 'consent' } });
    expect(consentRows(first.page!.html)).toMatchObject({ 'Phone number': 'Chưa có <span lang="en">(not on record)</span>' });
    const accepted = finished(await federatedSignIn(svc.config, svc.client.redirectUri, { agent: first.agent, consent: 'accept', scope, extra: { prompt: 'consent' } }));
    const tokens = await redeemFederated(svc.config, accepted);
    const sub = tokens.claims()!.sub;
    expect(tokens.claims()!.phone_number).toBeUndefined();
    expect(tokens.refresh_token).toBeDefined();
    // /account says so: nothing of it is shared, and nixa will ask.
    const account = await (await first.agent.request(new URL('/account', fed.nixa.config.issuer))).text();
    expect(account).toContain(
      'Số điện thoại <span lang="en">(Phone number)</span>: chưa có, nixa sẽ hỏi lại bạn khi có <span lang="en">(not on record; nixa will ask you when it is)</span>',
    );

    // The same person signs in through the telecom, which vouches for the phone number (linked to the same account).
    const telecom = await federatedSignIn(svc.config, svc.client.redirectUri, { source: 'telecom', citizen: 'nguyen-van-an', scope });
    const { rows } = await tdb.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM account_attributes a JOIN linked_identities l USING (account_id) WHERE a.name = 'phone_number' AND l.source_id = 'sim-citizen-id'",
    );
    expect(rows[0]!.n).toBe(1);
    // The service asks again, now showing the number.
    expect(telecom.stoppedAt).toBeUndefined();
    expect(telecom.page?.html).toContain('name="decision"');
    expect(consentRows(telecom.page!.html)).toMatchObject({ 'Phone number': '+84912345678' });

    // Tokens issued before do not start carrying it: not at userinfo, not in a refreshed ID token.
    expect((await userinfo(svc.config, tokens.access_token, sub)).phone_number).toBeUndefined();
    const refreshed = await oidc.refreshTokenGrant(svc.config, tokens.refresh_token!);
    expect(refreshed.claims()?.phone_number).toBeUndefined();
    expect(refreshed.claims()?.phone_number_verified).toBeUndefined();
    expect((await userinfo(svc.config, refreshed.access_token, sub)).phone_number).toBeUndefined();

    // Under single sign-on in the first browser, the service asks again too.
    const sso = await federatedSignIn(svc.config, svc.client.redirectUri, { agent: first.agent, scope });
    expect(sso.stoppedAt).toBeUndefined();
    expect(sso.page?.html).toContain('name="decision"');

    // Once the citizen accepts with the number in view, it flows, with phone_number_verified.
    const yes = finished(await federatedSignIn(svc.config, svc.client.redirectUri, { agent: first.agent, consent: 'accept', scope }));
    expect(yes.pages).toEqual(['consent']);
    const after = await redeemFederated(svc.config, yes);
    expect(after.claims()).toMatchObject({ phone_number: '+84912345678', phone_number_verified: true });
    expect(await userinfo(svc.config, after.access_token, sub)).toMatchObject({ phone_number: '+84912345678' });
  });
});

describe('a claim the citizen agreed to, named later under single sign-on', () => {
  it('is released without a page, though the session grant was made for a narrower request', async () => {
    const svc = await service('openid profile phone');
    // One browser: the profile, agreed (name on record from the citizen-ID source).
    finished(await federatedSignIn(svc.config, svc.client.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an', consent: 'accept', scope: 'openid profile' }));
    // Another browser: the phone only, agreed; that session's grant holds no name.
    const phone = finished(await federatedSignIn(svc.config, svc.client.redirectUri, { source: 'telecom', citizen: 'nguyen-van-an', consent: 'accept', scope: 'openid phone' }));
    await redeemFederated(svc.config, phone);
    // The same browser, single sign-on: the service now names the name it was granted.
    const named = await federatedSignIn(svc.config, svc.client.redirectUri, { agent: phone.agent, scope: 'openid phone', extra: { claims: JSON.stringify({ id_token: { name: null } }) } });
    const claims = (await redeemFederated(svc.config, finished(named))).claims()!;
    expect(named.pages).not.toContain('consent');
    expect(claims.name).toBe('Nguyễn Văn An');
    expect(claims.national_id).toBeUndefined();
  });
});
