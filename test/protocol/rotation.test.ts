// Refresh token rotation in one statement (rotation.ts): inside a token request
// the adapter writes the consume of the presented token with the insert of its
// successor, so the successor exists only if this request spent its predecessor.
// The end-to-end races (two parallel uses of one refresh token through the real
// token endpoint) are in replay.test.ts; these drive the adapter directly.
import { randomBytes } from 'node:crypto';

import { errors, type AdapterPayload, type KoaContextWithOIDC } from 'oidc-provider';

import { clientStore } from '../../src/clients/index.js';
import { PostgresAdapter } from '../../src/protocol/adapter.js';
import { rotationInOneStatement } from '../../src/protocol/rotation.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let tdb: TestDatabase;
let tokens: PostgresAdapter;
let grants: PostgresAdapter;

beforeAll(async () => {
  tdb = await createTestDatabase();
  tokens = new PostgresAdapter('RefreshToken', tdb.db, clientStore(tdb.db));
  grants = new PostgresAdapter('Grant', tdb.db, clientStore(tdb.db));
});

afterAll(async () => {
  await tdb?.drop();
});

const id = () => randomBytes(32).toString('base64url');
const payload = (jti: string, grantId: string): AdapterPayload => ({ jti, kind: 'RefreshToken', grantId, accountId: 'acct', clientId: 'svc', exp: Math.floor(Date.now() / 1000) + 3600 });

/** A token request as the middleware sees it; `body` is what oidc-provider would do inside it. */
async function tokenRequest(body: () => Promise<void>): Promise<void> {
  const scope = rotationInOneStatement((spent) => tokens.spend(spent));
  await scope({ method: 'POST', path: '/token' } as KoaContextWithOIDC, body);
}

/** A grant with one refresh token, as a sign-in leaves them. */
async function family() {
  const grantId = id();
  await grants.upsert(grantId, { jti: grantId, kind: 'Grant', accountId: 'acct', clientId: 'svc' }, 3600);
  const first = id();
  await tokens.upsert(first, payload(first, grantId), 3600);
  return { grantId, first };
}

/** What oidc-provider does to rotate: consume the presented token, then save its successor. */
async function rotate(presented: string, grantId: string): Promise<string> {
  const next = id();
  await tokens.consume(presented);
  await tokens.upsert(next, payload(next, grantId), 3600);
  return next;
}

describe('refresh token rotation in one statement', () => {
  it('spends the presented token and stores its successor in one statement', async () => {
    const { grantId, first } = await family();
    const statements: string[] = [];
    const counted = new PostgresAdapter('RefreshToken', { ...tdb.db, query: (sql: string, params?: unknown[]) => (statements.push(sql), tdb.db.query(sql, params)) } as never, clientStore(tdb.db));
    const next = id();
    await rotationInOneStatement((spent) => counted.spend(spent))({ method: 'POST', path: '/token' } as KoaContextWithOIDC, async () => {
      await counted.consume(first);
      await counted.upsert(next, payload(next, grantId), 3600);
    });
    expect(statements).toHaveLength(1);
    expect((await tokens.find(first))?.consumed).toEqual(expect.any(Number));
    expect(await tokens.find(next)).toMatchObject({ jti: next, grantId });
  });

  it('lets one of two parallel rotations of one token win; the other gets invalid_grant and the whole grant is revoked', async () => {
    const { grantId, first } = await family();
    const results = await Promise.allSettled([tokenRequest(async () => void (await rotate(first, grantId))), tokenRequest(async () => void (await rotate(first, grantId)))]);
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(errors.InvalidGrant);
    // A replay revokes everything the grant issued, the winner's successor included.
    const { rows } = await tdb.db.query('SELECT id FROM oidc_payloads WHERE grant_id = $1', [grantId]);
    expect(rows).toEqual([]);
  });

  it('refuses a token already spent without storing a successor', async () => {
    const { grantId, first } = await family();
    await tokenRequest(async () => void (await rotate(first, grantId)));
    const orphan = id();
    await expect(
      tokenRequest(async () => {
        await tokens.consume(first);
        await tokens.upsert(orphan, payload(orphan, grantId), 3600);
      }),
    ).rejects.toBeInstanceOf(errors.InvalidGrant);
    expect(await tokens.find(orphan)).toBeUndefined();
  });

  it('still spends the token when the request fails between the consume and the successor', async () => {
    const { first } = await family();
    await expect(
      tokenRequest(async () => {
        await tokens.consume(first);
        throw new Error('failed before the successor was saved');
      }),
    ).rejects.toThrow('failed before');
    expect((await tokens.find(first))?.consumed).toEqual(expect.any(Number));
  });

  it('consumes at once outside a token request', async () => {
    const { first } = await family();
    await tokens.consume(first);
    expect((await tokens.find(first))?.consumed).toEqual(expect.any(Number));
  });
});
