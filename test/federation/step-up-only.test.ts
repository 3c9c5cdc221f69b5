// A step-up-only source (role "step-up-only") links no one: nixa links accounts by
// the national ID number. It is offered only to a signed-in citizen whose account
// it is already linked to, and raises that session's level in the same account.
import type * as oidc from 'openid-client';

import { signInFromSource, type AccountsContext } from '../../src/accounts/index.js';
import { updateSource } from '../../src/sources/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, SIMULATED_SOURCE_IDS, startFederation, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';

let tdb: TestDatabase;
let fed: Federation;
let portal: TestClient;
let config: oidc.Configuration;
const SUBSTANTIAL = 'urn:nixa:loa:substantial';

const links = async () => (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM linked_identities')).rows[0]!.n;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  portal = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công' });
  config = await discover(fed.nixa.config.issuer, portal);
  // Nguyễn Văn An's account is linked to the bank while the bank is an identity source…
  await redeemFederated(config, await federatedSignIn(config, portal.redirectUri, { source: 'bank', citizen: 'nguyen-van-an', consent: 'accept' }));
  // (and so is Phạm Thị Dung's, another person's)
  await redeemFederated(config, await federatedSignIn(config, portal.redirectUri, { source: 'bank', citizen: 'pham-thi-dung', consent: 'accept' }));
  // …then the operator makes the bank step-up-only (it keeps mapping the number, which it no longer links by).
  await updateSource(tdb.db, fed.nixa.cipher, SIMULATED_SOURCE_IDS.bank, { role: 'step-up-only' }, 'test', { allowHttpLoopback: true });
  await fed.nixa.sources.refresh();
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

describe('a step-up-only source', () => {
  it('is not offered for a first sign-in, and choosing it anyway is refused without a link being made', async () => {
    const before = await links();
    const first = await federatedSignIn(config, portal.redirectUri, {});
    const html = first.page!.html;
    expect(html).toContain('value="sim-telecom"');
    expect(html).not.toContain('value="sim-bank"');
    // The form posted by hand with the bank: refused by the same rule.
    const uid = new URL(first.page!.url).pathname.split('/')[2]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const res = await first.agent.submit(new URL(`/interaction/${uid}/source`, fed.nixa.config.issuer), { csrf, source: 'sim-bank' }, portal.redirectUri);
    expect(res.res.status).toBe(400);
    expect(await res.res.text()).toContain('source');
    expect(await links()).toBe(before);
  });

  it('raises the level of a session whose account it is linked to, in the same account', async () => {
    const low = await federatedSignIn(config, portal.redirectUri, { source: 'telecom', citizen: 'nguyen-van-an', consent: 'accept' });
    const lowClaims = (await redeemFederated(config, low)).claims()!;
    expect(lowClaims.acr).toBe('urn:nixa:loa:low');
    const up = await federatedSignIn(config, portal.redirectUri, { agent: low.agent, source: 'bank', citizen: 'nguyen-van-an', consent: 'accept', extra: { acr_values: SUBSTANTIAL } });
    expect(up.pages[0]).toBe('chooser');
    expect(up.stoppedAt).toBeDefined();
    const upClaims = (await redeemFederated(config, up)).claims()!;
    expect(upClaims.acr).toBe(SUBSTANTIAL);
    expect(upClaims.sub).toBe(lowClaims.sub);
  });

  it("refuses a login it answers for another account than the session's (another person's session still open at the source)", async () => {
    const low = await federatedSignIn(config, portal.redirectUri, { source: 'telecom', citizen: 'nguyen-van-an', consent: 'accept' });
    const lowClaims = (await redeemFederated(config, low)).claims()!;
    const signIns = async () => (await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE event = 'SIGN_IN'`)).rows[0]!.n;
    const before = { links: await links(), signIns: await signIns() };
    // At the bank, the login is Phạm Thị Dung's, whose account the bank is linked to.
    const other = await federatedSignIn(config, portal.redirectUri, { agent: low.agent, source: 'bank', citizen: 'pham-thi-dung', consent: 'accept', extra: { acr_values: SUBSTANTIAL } });
    expect(other.stoppedAt).toBeUndefined();
    expect(other.page!.status).toBe(400);
    expect(other.page!.html).toContain('NIXA-FED-not-linkable');
    expect({ links: await links(), signIns: await signIns() }).toEqual(before);
    // The browser's nixa session is still An's, at its level.
    const again = await federatedSignIn(config, portal.redirectUri, { agent: low.agent });
    const claims = (await redeemFederated(config, again)).claims()!;
    expect({ sub: claims.sub, acr: claims.acr }).toEqual({ sub: lowClaims.sub, acr: 'urn:nixa:loa:low' });
  });

  it('is not offered to a signed-in citizen whose account it is not linked to', async () => {
    const low = await federatedSignIn(config, portal.redirectUri, { source: 'telecom', citizen: 'le-hoang-cuong', consent: 'accept' });
    await redeemFederated(config, low);
    const before = await links();
    const stepUp = await federatedSignIn(config, portal.redirectUri, { agent: low.agent, extra: { acr_values: SUBSTANTIAL } });
    const html = stepUp.page!.html;
    expect(html).toContain('cao hơn lần đăng nhập hiện tại');
    expect(html).toContain('value="sim-citizen-id"');
    expect(html).not.toContain('value="sim-bank"');
    expect(await links()).toBe(before);
  });

  it('never creates or links an account, even when it asserts an ID number it would be authoritative for', async () => {
    const accounts: AccountsContext = { db: tdb.db, cipher: fed.nixa.cipher, pepper: fed.nixa.cipher.derive('national-id-hash') };
    const count = async (t: string) => (await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`)).rows[0]!.n;
    const before = { accounts: await count('accounts'), links: await links(), attributes: await count('account_attributes') };
    const assertion = {
      sourceId: SIMULATED_SOURCE_IDS.bank,
      proofingLevel: 'substantial' as const,
      authoritativeFor: ['national_id' as const, 'full_name' as const],
      attributes: { national_id: '048201007396', full_name: 'Lê Hoàng Cường' },
      stepUpOnly: true,
    };
    // Lê Hoàng Cường's account exists (through the telecom), but not his link at the bank: refused.
    expect(await signInFromSource(accounts, { ...assertion, subject: 'bank-cuong-moi' })).toMatchObject({ outcome: 'refused', reason: 'not-linkable' });
    // A number nobody holds yet: no account is created either.
    expect(await signInFromSource(accounts, { ...assertion, subject: 'bank-nguoi-moi', attributes: { national_id: '001090012345' } })).toMatchObject({ outcome: 'refused', reason: 'not-linkable' });
    expect({ accounts: await count('accounts'), links: await links(), attributes: await count('account_attributes') }).toEqual(before);
  });
});
