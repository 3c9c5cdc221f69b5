// "Once only": one account per person across sources, pairwise subjects per
// service, and conflicts refused and recorded.
import type * as oidc from 'openid-client';

import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';

let tdb: TestDatabase;
let fed: Federation;
let serviceA: TestClient;
let serviceB: TestClient;
let configA: oidc.Configuration;
let configB: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  serviceA = await registerTestClient(tdb.db, { scope: 'openid profile phone', subject_type: 'pairwise' });
  serviceB = await registerTestClient(tdb.db, { scope: 'openid profile', subject_type: 'pairwise' });
  configA = await discover(fed.nixa.config.issuer, serviceA);
  configB = await discover(fed.nixa.config.issuer, serviceB);
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

const one = async <T>(sql: string, params: unknown[] = []) => (await tdb.db.query<T>(sql, params)).rows;

async function subAt(config: oidc.Configuration, c: TestClient, source: 'citizen_id' | 'telecom' | 'bank', citizen: string) {
  const s = await federatedSignIn(config, c.redirectUri, { source, citizen, consent: 'accept', scope: 'openid' });
  if (!s.stoppedAt) throw new Error(`sign-in stopped at ${s.page?.url}: ${s.page?.html.slice(0, 400)}`);
  return (await redeemFederated(config, s)).claims()!.sub;
}

describe('linking identities into one account', () => {
  it('links a telecom login and a later bank login of one person into one account, with one sub per service', async () => {
    const viaTelecom = await subAt(configA, serviceA, 'telecom', 'hoang-minh-duc');
    const viaBank = await subAt(configA, serviceA, 'bank', 'hoang-minh-duc');
    expect(viaBank).toBe(viaTelecom);

    const links = await one<{ source_id: string; account_id: string }>(
      `SELECT l.source_id, l.account_id FROM linked_identities l ORDER BY l.linked_at`,
    );
    const accounts = new Set(links.filter((l) => ['sim-telecom', 'sim-bank'].includes(l.source_id)).map((l) => l.account_id));
    expect(accounts.size).toBe(1);
    const [accountId] = [...accounts];
    const attrs = await one<{ name: string; source_id: string; level: string }>(
      'SELECT name, source_id, level FROM account_attributes WHERE account_id = $1 ORDER BY name',
      [accountId],
    );
    // Provenance: the phone came from the telecom, the name and birthdate from the bank.
    expect(attrs).toEqual(
      expect.arrayContaining([
        { name: 'phone_number', source_id: 'sim-telecom', level: 'low' },
        { name: 'full_name', source_id: 'sim-bank', level: 'substantial' },
        { name: 'birthdate', source_id: 'sim-bank', level: 'substantial' },
      ]),
    );
    const events = await one<{ event: string }>(`SELECT event FROM audit_events WHERE subject = $1 ORDER BY seq`, [accountId]);
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['ACCOUNT_CREATED', 'ACCOUNT_LINKED']));
  });

  it('gives two services two different subs for one person, and one service the same sub each time', async () => {
    const a1 = await subAt(configA, serviceA, 'citizen_id', 'pham-thi-dung');
    const a2 = await subAt(configA, serviceA, 'citizen_id', 'pham-thi-dung');
    const b = await subAt(configB, serviceB, 'citizen_id', 'pham-thi-dung');
    expect(a2).toBe(a1);
    expect(b).not.toBe(a1);
  });

  it('refuses to link a bank record whose birthdate conflicts with the citizen-ID record, and records it', async () => {
    await subAt(configA, serviceA, 'citizen_id', 'tran-thi-binh');
    const accountsBefore = await one<{ n: number }>('SELECT count(*)::int AS n FROM accounts');
    const linksBefore = await one<{ n: number }>('SELECT count(*)::int AS n FROM linked_identities');

    const s = await federatedSignIn(configA, serviceA.redirectUri, { source: 'bank', citizen: 'tran-thi-binh', consent: 'accept', scope: 'openid' });
    expect(s.stoppedAt).toBeUndefined();
    expect(s.page!.status).toBe(400);
    expect(s.page!.html).toContain('NIXA-FED-link-conflict');
    expect(s.page!.html).toContain('Chọn nguồn định danh khác'); // offers another source
    expect(s.page!.html).not.toContain('1992'); // says what happened, not her data
    // Which source and which of her details disagree, in plain words.
    expect(s.page!.html).toContain(`Thông tin do “${fed.nixa.sources.get('sim-bank')!.name.vi}” cung cấp khác với thông tin đã được xác minh của bạn về: ngày sinh.`);
    expect(s.page!.html).toContain('differ from your verified details in: date of birth.');

    expect(await one('SELECT count(*)::int AS n FROM accounts')).toEqual(accountsBefore);
    expect(await one('SELECT count(*)::int AS n FROM linked_identities')).toEqual(linksBefore);
    const [event] = await one<{ details: { attributes: string[]; nationalId: string } }>(
      `SELECT details FROM audit_events WHERE event = 'LINK_CONFLICT' ORDER BY seq DESC LIMIT 1`,
    );
    expect(event!.details.attributes).toEqual(['birthdate']);
    expect(event!.details.nationalId).toMatch(/^\*{9}\d{3}$/);
  });

  it('never stores the ID number in the clear or logs it in the audit trail', async () => {
    const ids = (await one<{ value: string }>(`SELECT value FROM account_attributes WHERE name = 'national_id'`)).map((r) => r.value);
    expect(ids.length).toBeGreaterThan(0);
    for (const v of ids) expect(v).toMatch(/^enc:/);
    const audit = JSON.stringify(await one('SELECT details FROM audit_events'));
    expect(audit).not.toMatch(/\d{12}/);
  });
});

describe('a returning citizen', () => {
  it('refreshes when each attribute was last verified, keeping values and provenance', async () => {
    await subAt(configA, serviceA, 'citizen_id', 'dang-thi-ngoc-ha');
    const [signIn] = await one<{ subject: string }>(`SELECT subject FROM audit_events WHERE event = 'SIGN_IN' ORDER BY seq DESC LIMIT 1`);
    const read = () =>
      one<{ name: string; value: string; source_id: string; level: string; verified_at: Date }>(
        'SELECT name, value, source_id, level, verified_at FROM account_attributes WHERE account_id = $1 ORDER BY name',
        [signIn!.subject],
      );
    const before = await read();
    expect(before.length).toBeGreaterThan(3);
    await new Promise((r) => setTimeout(r, 20));
    await subAt(configA, serviceA, 'citizen_id', 'dang-thi-ngoc-ha');
    const after = await read();
    // Values are compared as stored (the ID number's envelope is rewritten only if the number changes).
    expect(after.map(({ verified_at: _v, ...rest }) => rest)).toEqual(before.map(({ verified_at: _v, ...rest }) => rest));
    for (const [i, a] of after.entries()) expect(new Date(a.verified_at).getTime()).toBeGreaterThan(new Date(before[i]!.verified_at).getTime());
  });
});
