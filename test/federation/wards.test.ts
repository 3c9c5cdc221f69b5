// A parent's minor children, from the citizen-ID source to nixa over real HTTP: the
// source asserts them in con_chua_thanh_nien, nixa's callback records them with the
// sign-in, and a source that stops naming them (or names them in an unusable form)
// leaves none. Who may act for whom is read from here (src/accounts/wards.ts).
import type * as oidc from 'openid-client';

import { accountIdByNationalId, wardsOf, type AccountsContext } from '../../src/accounts/index.js';
import { updateSource } from '../../src/sources/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, SIMULATED_SOURCE_IDS, startFederation, type Federation } from '../support/federation.js';
import { capturingLogger } from '../support/nixa.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';

let tdb: TestDatabase;
let fed: Federation;
let service: TestClient;
let config: oidc.Configuration;
let accounts: AccountsContext;
const logs = capturingLogger();
const CITIZEN_ID = SIMULATED_SOURCE_IDS.citizen_id;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb, {}, { logger: logs.logger });
  accounts = { db: tdb.db, cipher: fed.nixa.cipher, pepper: fed.nixa.cipher.derive('national-id-hash') };
  service = await registerTestClient(tdb.db, { scope: 'openid profile', subject_type: 'pairwise', name: 'Cổng dịch vụ công quốc gia' });
  config = await discover(fed.nixa.config.issuer, service);
});

afterEach(() => {
  for (const s of Object.values(fed.sources)) s.misbehave({ mode: 'normal' });
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

async function signIn(citizen: string, source: 'citizen_id' | 'bank' = 'citizen_id'): Promise<void> {
  const s = await federatedSignIn(config, service.redirectUri, { source, citizen, consent: 'accept' });
  if (!s.stoppedAt) throw new Error(`sign-in stopped at ${s.page?.url}: ${s.page?.html.slice(0, 300)}`);
  await redeemFederated(config, s);
}

const AN = '001085004217';
const names = async (nationalId: string) => (await wardsOf(accounts, (await accountIdByNationalId(accounts, nationalId))!)).map((w) => `${w.fullName} ${w.birthdate} ${w.sourceId}`);

describe('minor children asserted by the citizen-ID source', () => {
  it('are recorded with a parent’s sign-in: after An signs in, his wards are Trang and Khôi, from the citizen-ID source', async () => {
    await signIn('nguyen-van-an');
    const an = (await accountIdByNationalId(accounts, AN))!;
    const wards = await wardsOf(accounts, an);
    expect(wards).toEqual([
      { nationalId: '001311058126', fullName: 'Nguyễn Thu Trang', birthdate: '2011-08-09', gender: 'female', sourceId: CITIZEN_ID, assertedAt: expect.any(String) },
      { nationalId: '001216073942', fullName: 'Nguyễn Minh Khôi', birthdate: '2016-05-20', gender: 'male', sourceId: CITIZEN_ID, assertedAt: expect.any(String) },
    ]);
    // Recorded, never logged: no child's number or name in nixa's logs.
    const text = JSON.stringify(logs.lines());
    for (const secret of ['001311058126', '001216073942', 'Khôi', 'Trang']) expect(text).not.toContain(secret);
  });

  it('are each parent’s own: Dung has her daughter, Cường none', async () => {
    await signIn('pham-thi-dung');
    await signIn('le-hoang-cuong');
    expect(await names('031178052840')).toEqual([`Vũ Ngọc Anh 2019-02-11 ${CITIZEN_ID}`]);
    expect(await names('048201007396')).toEqual([]);
  });

  it('are left alone by a sign-in through a source that does not vouch for children', async () => {
    await signIn('nguyen-van-an');
    const before = await names(AN);
    await signIn('nguyen-van-an', 'bank');
    expect(await names(AN)).toEqual(before);
    expect(before).toHaveLength(2);
  });

  it('are gone when the citizen-ID source leaves the claim out: a source registered to name children that names none says there are none', async () => {
    await signIn('nguyen-van-an');
    fed.sources.citizen_id.misbehave({ mode: 'drop-claim', claim: 'con_chua_thanh_nien' });
    await signIn('nguyen-van-an');
    expect(await names(AN)).toEqual([]);
    fed.sources.citizen_id.misbehave({ mode: 'normal' });
    await signIn('nguyen-van-an');
    expect(await names(AN)).toHaveLength(2);
  });

  it('are taken as none, with a warning naming the source and no value, when the claim is not a list', async () => {
    // The operator points wards_claim at a claim holding text (the person's own name).
    await updateSource(tdb.db, fed.nixa.cipher, CITIZEN_ID, { wards_claim: 'ho_va_ten' }, 'test', { allowHttpLoopback: true });
    await fed.nixa.sources.refresh();
    try {
      const seen = logs.lines().length;
      await signIn('nguyen-van-an');
      expect(await names(AN)).toEqual([]);
      const warnings = logs.lines().slice(seen).filter((l) => /minor-children claim/.test(String(l.msg)));
      expect(warnings).toEqual([expect.objectContaining({ source: CITIZEN_ID, claim: 'ho_va_ten', level: expect.anything() })]);
      expect(JSON.stringify(warnings)).not.toContain('Nguyễn Văn An');
    } finally {
      await updateSource(tdb.db, fed.nixa.cipher, CITIZEN_ID, { wards_claim: 'con_chua_thanh_nien' }, 'test', { allowHttpLoopback: true });
      await fed.nixa.sources.refresh();
    }
    await signIn('nguyen-van-an');
    expect(await names(AN)).toHaveLength(2);
  });
});
