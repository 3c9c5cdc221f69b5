// A suspended account, end to end: the tokens it held stop working at once
// (userinfo, introspection, refresh), its browser session is gone, and the
// citizen who signs in again through any source sees a plain-words page with
// NIXA-FED-account-suspended while nothing but the refusal is written.
import * as oidc from 'openid-client';

import { lookUpAccount, reinstateAccount, suspendAccount, type AccountsContext } from '../../src/accounts/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';

let tdb: TestDatabase;
let fed: Federation;
let service: TestClient;
let config: oidc.Configuration;
let accounts: AccountsContext;

const OFFICER = 'admin:thu.pham';
/** Lê Hoàng Cường, known to all three simulated sources. */
const CUONG = { key: 'le-hoang-cuong', nationalId: '048201007396' };

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  service = await registerTestClient(tdb.db, {
    name: 'Cổng dịch vụ công quốc gia (thử nghiệm)',
    scope: 'openid offline_access profile',
    token_endpoint_auth_method: 'client_secret_basic',
  });
  config = await discover(fed.nixa.config.issuer, service);
  accounts = { db: tdb.db, cipher: fed.nixa.cipher, pepper: fed.nixa.cipher.derive('national-id-hash') };
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

const count = async (sql: string, params: unknown[] = []) => (await tdb.db.query<{ n: number }>(sql, params)).rows[0]!.n;

describe('suspending a signed-in citizen', () => {
  it('refuses the tokens issued before at userinfo, introspection and refresh, and ends the browser session', async () => {
    const s = await federatedSignIn(config, service.redirectUri, { source: 'citizen_id', citizen: CUONG.key, consent: 'accept', scope: 'openid offline_access profile', extra: { prompt: 'consent' } });
    if (!s.stoppedAt) throw new Error(`sign-in stopped at ${s.page?.url}: ${s.page?.html.slice(0, 300)}`);
    const tokens = await redeemFederated(config, s);
    const sub = tokens.claims()!.sub;
    expect(tokens.refresh_token).toEqual(expect.any(String));
    // Working before: the service reads the profile and its introspection says active.
    expect(await oidc.fetchUserInfo(config, tokens.access_token, sub)).toMatchObject({ sub, name: 'Lê Hoàng Cường' });
    expect(await oidc.tokenIntrospection(config, tokens.access_token)).toMatchObject({ active: true, sub });

    const seen = await lookUpAccount(accounts, { nationalId: CUONG.nationalId, actor: OFFICER, reason: 'Công dân báo mất căn cước và điện thoại' });
    expect(seen.accountId).toBe(sub); // the test service has public subjects
    const suspension = await suspendAccount(accounts, { accountId: seen.accountId, actor: OFFICER, reason: 'Công dân báo mất căn cước và điện thoại', expectedVersion: seen.version });
    expect(suspension.revoked.sessions).toBeGreaterThanOrEqual(1);
    expect(suspension.revoked.grants).toBeGreaterThanOrEqual(1);
    expect(suspension.revoked.tokens).toBeGreaterThanOrEqual(2); // the access and refresh tokens at least

    await expect(oidc.fetchUserInfo(config, tokens.access_token, sub)).rejects.toMatchObject({ status: 401 });
    expect(await oidc.tokenIntrospection(config, tokens.access_token)).toEqual({ active: false });
    expect(await oidc.tokenIntrospection(config, tokens.refresh_token!)).toEqual({ active: false });
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await count(`SELECT count(*)::int AS n FROM oidc_payloads WHERE payload ->> 'accountId' = $1 AND model <> 'Interaction'`, [sub])).toBe(0);

    // The same browser is no longer signed in: nixa asks it to choose a source again.
    const again = await federatedSignIn(config, service.redirectUri, { agent: s.agent });
    expect(again.stoppedAt).toBeUndefined();
    expect(again.page!.html).toContain('name="source"');
  });
});

describe('a suspended citizen signing in', () => {
  it('sees a plain-words page with the code, is offered no other source, and only the refusal is written', async () => {
    const { accountId } = await lookUpAccount(accounts, { nationalId: CUONG.nationalId, actor: OFFICER, reason: 'Kiểm tra trước khi thử đăng nhập' });
    const rows = async () =>
      (
        await tdb.db.query<{ s: string }>(
          `SELECT (SELECT string_agg(t::text, '|' ORDER BY t::text) FROM linked_identities t) || '#' ||
                  (SELECT string_agg(t::text, '|' ORDER BY t::text) FROM account_attributes t) || '#' ||
                  (SELECT count(*) FROM accounts) || '#' ||
                  (SELECT count(*) FROM oidc_payloads WHERE model IN ('Session', 'Grant', 'AuthorizationCode', 'AccessToken', 'RefreshToken')) AS s`,
        )
      ).rows[0]!.s;
    for (const source of ['citizen_id', 'bank'] as const) {
      const before = await rows();
      const events = await count('SELECT count(*)::int AS n FROM audit_events');
      const s = await federatedSignIn(config, service.redirectUri, { source, citizen: CUONG.key, consent: 'accept' });
      expect(s.stoppedAt).toBeUndefined();
      expect(s.page!.status).toBe(403);
      expect(s.page!.html).toContain('NIXA-FED-account-suspended');
      expect(s.page!.html).toContain('Tài khoản nixa của bạn đang bị tạm khóa');
      expect(s.page!.html).toContain('Your nixa account is suspended');
      expect(s.page!.html).not.toContain('Chọn nguồn định danh khác');
      expect(s.page!.html).not.toContain(CUONG.nationalId);

      expect(await rows()).toBe(before);
      expect(await count('SELECT count(*)::int AS n FROM audit_events')).toBe(events + 1);
      const { rows: [refusal] } = await tdb.db.query<{ actor: string; subject: string; details: Record<string, unknown> }>(
        `SELECT actor, subject, details FROM audit_events WHERE event = 'SIGN_IN_REFUSED' ORDER BY seq DESC LIMIT 1`,
      );
      expect(refusal).toMatchObject({ subject: accountId, details: { reason: 'account-suspended', client: service.clientId } });
      expect(refusal!.actor).toMatch(/^source:sim-/);
    }
  });

  it('signs in again once reinstated', async () => {
    const seen = await lookUpAccount(accounts, { nationalId: CUONG.nationalId, actor: OFFICER, reason: 'Xác minh chính chủ tại quầy tiếp dân' });
    await reinstateAccount(accounts, { accountId: seen.accountId, actor: OFFICER, reason: 'Đã xác minh chính chủ tại quầy', expectedVersion: seen.version });
    const s = await federatedSignIn(config, service.redirectUri, { source: 'citizen_id', citizen: CUONG.key, consent: 'accept' });
    if (!s.stoppedAt) throw new Error(`sign-in stopped at ${s.page?.url}: ${s.page?.html.slice(0, 300)}`);
    expect((await redeemFederated(config, s)).claims()!.sub).toBe(seen.accountId);
  });
});
