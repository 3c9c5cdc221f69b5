// The consents section of /account over real HTTP: the services a citizen shares
// information with, and withdrawing consent — the consent, the grants and their
// tokens go at once, the audit trail says so, the service is told by back-channel
// logout, and the next sign-in asks again. Bad requests write nothing.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';

import { formatDate } from '../../src/pages/index.js';
import { startLogoutReceiver, type LogoutReceiver } from '../support/backchannel.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation } from '../support/federation.js';
import { field, pagesAt } from '../support/pages.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';

let tdb: TestDatabase;
let fed: Federation;
let receiver: LogoutReceiver;
let receiverUrl: string;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  // The services' back-channel logout endpoints.
  receiver = await startLogoutReceiver();
  receiverUrl = receiver.url;
});

afterAll(async () => {
  await fed?.close();
  await receiver?.close();
  await tdb?.drop();
});

async function service(name: string, path: string, scope = 'openid offline_access profile'): Promise<{ client: TestClient; config: oidc.Configuration }> {
  const client = await registerTestClient(tdb.db, {
    name,
    scope,
    token_endpoint_auth_method: 'client_secret_basic',
    backchannel_logout_uri: `${receiverUrl}/${path}/backchannel`,
  });
  return { client, config: await discover(fed.nixa.config.issuer, client) };
}

const { get, post } = pagesAt(() => fed.nixa.config.issuer);

/** What a withdrawal could change: consents, the provider's grants and tokens, the audit trail. */
async function written() {
  const { rows } = await tdb.db.query<{ consents: number; payloads: number; audit: number }>(
    `SELECT (SELECT count(*) FROM consents)::int AS consents,
            (SELECT count(*) FROM oidc_payloads WHERE model IN ('Grant', 'AccessToken', 'RefreshToken', 'AuthorizationCode'))::int AS payloads,
            (SELECT count(*) FROM audit_events)::int AS audit`,
  );
  return rows[0]!;
}

async function userinfoStatus(config: oidc.Configuration, accessToken: string): Promise<number> {
  const res = await fetch(config.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${accessToken}` } });
  return res.status;
}

describe('/account consents', () => {
  it('lists each service by name with the information shared and the day consent was given, never its secret', async () => {
    const tax = await service('Cổng dịch vụ thuế', 'thue-list');
    const post_ = await service('Bưu điện Việt Nam', 'buudien', 'openid profile');
    const a = await federatedSignIn(tax.config, tax.client.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an', consent: 'accept' });
    await redeemFederated(tax.config, a);
    const b = await federatedSignIn(post_.config, post_.client.redirectUri, { agent: a.agent, consent: 'accept' });
    expect(b.pages).toEqual(['consent']);
    await redeemFederated(post_.config, b);

    const page = await get(a.agent, '/account');
    expect(page.res.status).toBe(200);
    expect(page.html).toContain('Dịch vụ bạn đã chia sẻ thông tin');
    expect(page.html).toContain('<span lang="en">(Services you share information with)</span>');
    expect(page.html).toContain('<h3>Cổng dịch vụ thuế</h3>');
    expect(page.html).toContain('<h3>Bưu điện Việt Nam</h3>');
    // The consent page's words for the claims, in the order a person reads them.
    const section = page.html.slice(page.html.indexOf('<h3>Cổng dịch vụ thuế</h3>'));
    const labels = [...section.slice(0, section.indexOf('</ul>')).matchAll(/<li>([^<]+) <span lang="en">\(([^)]+)\)<\/span><\/li>/g)].map((m) => `${m[1]}|${m[2]}`);
    expect(labels).toEqual(['Họ và tên|Full name', 'Ngày sinh|Date of birth', 'Giới tính|Gender', 'Quê quán|Place of origin']);
    const today = formatDate(new Date()); // dd/mm/yyyy in Vietnam, as on every citizen page
    expect(page.html).toContain(`Đồng ý ngày ${today}`);
    expect(page.html).toContain(`action="/account/consents/${tax.client.clientId}/withdraw"`);
    expect(page.html).toContain('aria-label="Rút lại đồng ý với Cổng dịch vụ thuế (Withdraw consent from Cổng dịch vụ thuế)"');
    expect(page.html).toContain('Rút lại đồng ý <span lang="en">(Withdraw consent)</span>');
    expect(page.html).not.toContain(tax.client.secret!);
    const { rows } = await tdb.db.query<{ secret_hash: string }>('SELECT secret_hash FROM clients WHERE client_id = $1', [tax.client.clientId]);
    expect(page.html).not.toContain(rows[0]!.secret_hash);
  });

  it('lists nothing for a service that was given no attributes (openid alone asks no consent), and says so', async () => {
    const svc = await service('Cổng thông tin Hà Nội', 'hanoi', 'openid');
    const s = await federatedSignIn(svc.config, svc.client.redirectUri, { source: 'citizen_id', citizen: 'dang-thi-ngoc-ha', scope: 'openid' });
    expect(s.pages).toEqual(['chooser', 'source-picker']);
    await redeemFederated(svc.config, s);
    const page = await get(s.agent, '/account');
    expect(page.html).toContain('Bạn chưa chia sẻ thông tin với dịch vụ nào.');
    expect(page.html).toContain('(You do not share information with any service.)');
    expect(page.html).not.toContain('/withdraw"');
  });

  it('withdrawing revokes the tokens at once, records CONSENT_WITHDRAWN, tells the service, and the next sign-in asks again', async () => {
    const tax = await service('Cổng dịch vụ thuế', 'thue');
    const insurance = await service('Bảo hiểm xã hội', 'bhxh');
    // Telecom: a session at low may still withdraw, it only takes away.
    const a = await federatedSignIn(tax.config, tax.client.redirectUri, {
      source: 'telecom',
      citizen: 'tran-thi-binh',
      consent: 'accept',
      scope: 'openid profile offline_access',
      extra: { prompt: 'consent' },
    });
    const tokens = await redeemFederated(tax.config, a);
    const accountId = tokens.claims()!.sub;
    const sid = tokens.claims()!.sid;
    expect(tokens.refresh_token).toBeDefined();
    // A second sign-in to the same service (another grant; prompt=consent asks again) and one to another service.
    const again = await federatedSignIn(tax.config, tax.client.redirectUri, { agent: a.agent, consent: 'accept', scope: 'openid profile offline_access', extra: { prompt: 'consent' } });
    expect(again.pages).toEqual(['consent']);
    const tokens2 = await redeemFederated(tax.config, again);
    const ins = await federatedSignIn(insurance.config, insurance.client.redirectUri, { agent: a.agent, consent: 'accept' });
    const insTokens = await redeemFederated(insurance.config, ins);
    // The tokens work before.
    const refreshed = await oidc.refreshTokenGrant(tax.config, tokens.refresh_token!);
    expect(await userinfoStatus(tax.config, refreshed.access_token)).toBe(200);

    const page = await get(a.agent, '/account');
    expect(page.html).toContain('thấp'); // the session is at low
    const res = await post(a.agent, `/account/consents/${tax.client.clientId}/withdraw`, { csrf: field(page.html, 'csrf')! });
    expect(res.res.status).toBe(200);
    expect(res.res.headers.get('cache-control')).toBe('no-store');
    expect(res.html).toContain('Đã rút lại đồng ý với «Cổng dịch vụ thuế».');
    expect(res.html).toContain('Consent withdrawn from “Cổng dịch vụ thuế”.');
    expect(res.html).not.toContain('<h3>Cổng dịch vụ thuế</h3>');
    expect(res.html).toContain('<h3>Bảo hiểm xã hội</h3>');

    // Every token of that service stops working at once; the other service's do not.
    await expect(oidc.refreshTokenGrant(tax.config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.refreshTokenGrant(tax.config, tokens2.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await userinfoStatus(tax.config, refreshed.access_token)).toBe(401);
    expect(await userinfoStatus(tax.config, tokens2.access_token)).toBe(401);
    expect(await userinfoStatus(insurance.config, insTokens.access_token)).toBe(200);
    const { rows: consents } = await tdb.db.query<{ client_id: string }>('SELECT client_id FROM consents WHERE account_id = $1', [accountId]);
    expect(consents).toEqual([{ client_id: insurance.client.clientId }]);

    // The audit trail: who, whose, which service, which claims.
    const { rows: audit } = await tdb.db.query<{ actor: string; subject: string; details: unknown }>(
      "SELECT actor, subject, details FROM audit_events WHERE event = 'CONSENT_WITHDRAWN'",
    );
    expect(audit).toEqual([
      {
        actor: `account:${accountId}`,
        subject: accountId,
        // The telecom knows no profile: the page showed "Chưa có" for each, so nothing of it was shared.
        details: { client: tax.client.clientId, claims: [], withoutValue: ['birthdate', 'gender', 'name', 'place_of_origin'] },
      },
    ]);

    // The service hears of it by back-channel logout naming its session; the other service hears nothing.
    const jwks = createRemoteJWKSet(new URL(`${fed.nixa.config.issuer}/jwks`));
    expect(receiver.received.map((r) => r.path)).toEqual(['/thue/backchannel']);
    const { payload } = await jwtVerify(new URLSearchParams(receiver.received[0]!.body).get('logout_token')!, jwks, {
      issuer: fed.nixa.config.issuer,
      audience: tax.client.clientId,
    });
    expect(payload).toMatchObject({ sub: accountId, sid, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } });

    // Still signed in to nixa, but the service must ask again: the consent page, then a new grant.
    const next = await federatedSignIn(tax.config, tax.client.redirectUri, { agent: a.agent });
    expect(next.page?.html).toContain('name="decision"');
    expect(next.page?.html).toContain('Cổng dịch vụ thuế');
    const accepted = await federatedSignIn(tax.config, tax.client.redirectUri, { agent: a.agent, consent: 'accept' });
    expect(accepted.pages).toEqual(['consent']);
    const fresh = await redeemFederated(tax.config, accepted);
    expect(await userinfoStatus(tax.config, fresh.access_token)).toBe(200);
  });

  it('refuses an unknown service, a service without consent, a missing or forged token and hostile ids, writing nothing', async () => {
    const shared = await service('Cổng dịch vụ công quốc gia', 'dvc');
    const never = await service('Ngân hàng Nhà nước', 'nhnn');
    const s = await federatedSignIn(shared.config, shared.client.redirectUri, { source: 'citizen_id', citizen: 'le-hoang-cuong', consent: 'accept' });
    await redeemFederated(shared.config, s);
    // Another citizen's consent to `never`: not this citizen's to withdraw.
    const other = await federatedSignIn(never.config, never.client.redirectUri, { source: 'citizen_id', citizen: 'pham-thi-dung', consent: 'accept' });
    await redeemFederated(never.config, other);
    const csrf = field((await get(s.agent, '/account')).html, 'csrf')!;
    const otherCsrf = field((await get(other.agent, '/account')).html, 'csrf')!;
    const before = await written();
    const heard = receiver.received.length;

    const withdraw = `/account/consents/${shared.client.clientId}/withdraw`;
    // CSRF missing, forged, or another session's: 400.
    for (const fields of [{}, { csrf: `${csrf.slice(1)}A` }, { csrf: otherCsrf }] as Record<string, string>[]) {
      const r = await post(s.agent, withdraw, fields);
      expect(r.res.status).toBe(400);
    }
    // No session at all: 401, as for every POST of /account.
    expect((await post(new UserAgent(), withdraw, { csrf })).res.status).toBe(401);

    // Unknown, not consented by this account, or not a client id at all: 404 in plain words.
    for (const id of [
      'svc-khong-ton-tai',
      never.client.clientId,
      '%3Cscript%3Ealert(1)%3C%2Fscript%3E',
      '..%2F..%2Fadmin',
      "x'%20OR%20'1'%3D'1",
      '%E0%A4%A',
      '%00nul',
      'a'.repeat(300),
      encodeURIComponent('Cổng'),
    ]) {
      const r = await post(s.agent, `/account/consents/${id}/withdraw`, { csrf });
      expect([id, r.res.status]).toEqual([id, 404]);
      expect(r.res.headers.get('cache-control')).toBe('no-store');
      expect(r.html).toContain('Bạn không chia sẻ thông tin với dịch vụ này, hoặc không có dịch vụ như vậy.');
      expect(r.html).toContain('You do not share information with this service, or there is no such service.');
      expect(r.html).not.toContain('<script>');
    }
    // A GET is not a withdrawal.
    expect((await get(s.agent, withdraw)).res.status).toBe(404);

    expect(await written()).toEqual(before);
    expect(receiver.received.length).toBe(heard);
    // And the consent is still there to withdraw.
    expect((await post(s.agent, withdraw, { csrf })).res.status).toBe(200);
  });
});
