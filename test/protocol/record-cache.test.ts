// Sessions and grants served from memory (src/protocol/record-cache.ts) on two
// instances of one database: the instance that wrote one reads it back from
// memory; a grant revoked or a session ended through the other instance (or an
// operator's command) stops being honoured at once, through NOTIFY.
import * as oidc from 'openid-client';

import type { Nixa } from '../../src/app/index.js';
import { deleteSessionsOf, revokeGrantsOf } from '../../src/protocol/index.js';
import { openPostgres, type Database } from '../../src/storage/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestNixa, toOrigin } from '../support/nixa.js';
import { discover, redeem, registerTestClient, signIn, type TestClient } from '../support/relying-party.js';
import { waitFor } from '../support/wait.js';

let tdb: TestDatabase;
let dbB: Database | undefined;
let a: Nixa;
let b: Nixa;
let client: TestClient;
let config: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  a = await startTestNixa(tdb.db);
  dbB = tdb.url ? await openPostgres(tdb.url, 4) : undefined;
  b = await startTestNixa(dbB ?? tdb.db, { NIXA_ISSUER: a.config.issuer });
  client = await registerTestClient(tdb.db);
  config = await discover(a.config.issuer, client);
});

afterAll(async () => {
  await b?.close();
  await a?.close();
  await dbB?.close();
  await tdb?.drop();
});

async function userinfoAt(n: Nixa, accessToken: string): Promise<number> {
  const res = await fetch(toOrigin(config.serverMetadata().userinfo_endpoint!, n.url), { headers: { authorization: `Bearer ${accessToken}` } });
  await res.body?.cancel();
  return res.status;
}

describe('sessions and grants read from memory', () => {
  it('serves a token’s grant from memory on both instances, and refuses it on both at once when the grant is revoked', async () => {
    const tokens = await redeem(config, await signIn(config, client, { account: 'nguyen-van-an' }));
    expect(await userinfoAt(b, tokens.access_token)).toBe(200);
    const before = { a: { ...a.caches.records.stats }, b: { ...b.caches.records.stats } };
    expect(await userinfoAt(a, tokens.access_token)).toBe(200);
    expect(await userinfoAt(b, tokens.access_token)).toBe(200);
    // The grant came from memory on both (A wrote it; B had read it once).
    expect(a.caches.records.stats.hits).toBeGreaterThan(before.a.hits);
    expect(b.caches.records.stats.hits).toBeGreaterThan(before.b.hits);

    const sub = (await oidc.fetchUserInfo(config, tokens.access_token, oidc.skipSubjectCheck)).sub;
    // Consent withdrawn, as /account or an operator does it: SQL on the database, not through either instance's adapter.
    expect((await revokeGrantsOf(tdb.db, sub, client.clientId)).grants).toBe(1);
    await waitFor(async () => (await userinfoAt(b, tokens.access_token)) === 401, 2_000, 'B to refuse the revoked grant');
    expect(await userinfoAt(a, tokens.access_token)).toBe(401);
  });

  it('ends a session held in memory when it is deleted outside the adapter (account suspended, every session ended): single sign-on then asks to log in again', async () => {
    const first = await signIn(config, client, { account: 'tran-thi-binh' });
    expect(first.sawLoginPage).toBe(true);
    const sub = (await redeem(config, first)).claims()!.sub;
    const before = a.caches.records.stats.hits;
    const again = await signIn(config, client, { account: 'tran-thi-binh', agent: first.agent });
    expect(again.sawLoginPage).toBe(false);
    expect(a.caches.records.stats.hits).toBeGreaterThan(before);

    expect(await deleteSessionsOf(tdb.db, sub)).toBe(1);
    await waitFor(async () => (await signIn(config, client, { account: 'tran-thi-binh', agent: first.agent })).sawLoginPage, 2_000, 'the ended session to ask for a login');
  });
});
