// Replay protection over real HTTP: an authorization code or a refresh token
// redeemed twice — at the same moment or one after the other — yields tokens at
// most once, and the reuse revokes the whole grant (RFC 9700 §4.14, §2.2.2), so
// even the tokens the first redemption got stop working.
import * as oidc from 'openid-client';

import type { Nixa } from '../../src/app/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestNixa } from '../support/nixa.js';
import { discover, redeem, registerTestClient, signIn, type TestClient } from '../support/relying-party.js';

const ROUNDS = 5;
const CITIZENS = ['nguyen-van-an', 'tran-thi-binh', 'le-hoang-cuong', 'pham-thu-dung', 'vo-minh-em'];

let tdb: TestDatabase;
let nixa: Nixa;
let client: TestClient;
let config: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db);
  client = await registerTestClient(tdb.db);
  config = await discover(nixa.config.issuer, client);
});

afterAll(async () => {
  await nixa?.close();
  await tdb?.drop();
});

/** Signs in asking for offline access, which needs prompt=consent, so the code also yields a refresh token. */
function signInOffline(account: string) {
  return signIn(config, client, { account, scope: 'openid offline_access', extra: { prompt: 'consent' } });
}

/** Status of the userinfo endpoint for a bearer token: 200 when it works, 401 once revoked. */
async function userinfoStatus(accessToken: string): Promise<number> {
  const res = await fetch(config.serverMetadata().userinfo_endpoint!, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  await res.body?.cancel();
  return res.status;
}

/** Whether token introspection (what resource servers ask) still calls the access token active. */
async function introspectsActive(accessToken: string): Promise<boolean> {
  return (await oidc.tokenIntrospection(config, accessToken)).active;
}

/** 'tokens' if the refresh token still works, else the OAuth error code the token endpoint returned. */
async function refreshOutcome(refreshToken: string | undefined): Promise<string> {
  if (!refreshToken) return 'no refresh token issued';
  try {
    await oidc.refreshTokenGrant(config, refreshToken);
    return 'tokens';
  } catch (err) {
    return errorCode(err);
  }
}

function errorCode(err: unknown): string {
  return (err as { error?: string }).error ?? `unexpected ${(err as Error).name}: ${(err as Error).message}`;
}

/** Splits settled token requests into the responses that succeeded and the error codes of the rest. */
function split<T extends oidc.TokenEndpointResponse>(results: PromiseSettledResult<T>[]) {
  const winners = results.filter((r): r is PromiseFulfilledResult<T> => r.status === 'fulfilled').map((r) => r.value);
  const errors = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => errorCode(r.reason));
  return { winners, errors };
}

describe('replay protection at the token endpoint', () => {
  it('lets an unraced sign-in use its access token and refresh token (control for the checks below)', async () => {
    const tokens = await redeem(config, await signInOffline('nguyen-van-an'));
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect(await userinfoStatus(tokens.access_token)).toBe(200);
    expect(await introspectsActive(tokens.access_token)).toBe(true);

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(await userinfoStatus(refreshed.access_token)).toBe(200);
    expect(refreshed.refresh_token).toEqual(expect.any(String));
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token); // rotated
  });

  it(`answers two parallel redemptions of one authorization code with one token response and one invalid_grant, and revokes the winner's tokens (${ROUNDS} races)`, async () => {
    const rounds = [];
    for (let round = 0; round < ROUNDS; round++) {
      const s = await signInOffline(CITIZENS[round % CITIZENS.length]!);
      const { winners, errors } = split(await Promise.allSettled([redeem(config, s), redeem(config, s)]));
      const winner = winners[0];
      rounds.push({
        tokenResponses: winners.length,
        errors,
        winnerAtUserinfo: winner ? await userinfoStatus(winner.access_token) : 'no winner',
        winnerAtActive: winner ? await introspectsActive(winner.access_token) : 'no winner',
        winnerRefresh: winner ? await refreshOutcome(winner.refresh_token) : 'no winner',
      });
    }
    const expected = {
      tokenResponses: 1,
      errors: ['invalid_grant'],
      winnerAtUserinfo: 401,
      winnerAtActive: false,
      winnerRefresh: 'invalid_grant',
    };
    expect(rounds).toEqual(Array.from({ length: ROUNDS }, () => expected));
  });

  it(`answers two parallel uses of one refresh token with one token response and one invalid_grant, and revokes the grant (${ROUNDS} races)`, async () => {
    const rounds = [];
    for (let round = 0; round < ROUNDS; round++) {
      const first = await redeem(config, await signInOffline(CITIZENS[round % CITIZENS.length]!));
      const rt = first.refresh_token;
      if (!rt) throw new Error('the sign-in did not yield a refresh token');
      const { winners, errors } = split(
        await Promise.allSettled([oidc.refreshTokenGrant(config, rt), oidc.refreshTokenGrant(config, rt)]),
      );
      const winner = winners[0];
      rounds.push({
        tokenResponses: winners.length,
        errors,
        originalAtUserinfo: await userinfoStatus(first.access_token),
        winnerAtUserinfo: winner ? await userinfoStatus(winner.access_token) : 'no winner',
        winnerAtActive: winner ? await introspectsActive(winner.access_token) : 'no winner',
        winnerRefresh: winner ? await refreshOutcome(winner.refresh_token) : 'no winner',
      });
    }
    const expected = {
      tokenResponses: 1,
      errors: ['invalid_grant'],
      originalAtUserinfo: 401,
      winnerAtUserinfo: 401,
      winnerAtActive: false,
      winnerRefresh: 'invalid_grant',
    };
    expect(rounds).toEqual(Array.from({ length: ROUNDS }, () => expected));
  });

  it('refuses a refresh token used a second time with invalid_grant and revokes everything the grant issued', async () => {
    const first = await redeem(config, await signInOffline('tran-thi-binh'));
    const rotated = await oidc.refreshTokenGrant(config, first.refresh_token!);
    expect(await userinfoStatus(rotated.access_token)).toBe(200);

    await expect(oidc.refreshTokenGrant(config, first.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    expect(await userinfoStatus(first.access_token)).toBe(401);
    expect(await userinfoStatus(rotated.access_token)).toBe(401);
    expect(await refreshOutcome(rotated.refresh_token)).toBe('invalid_grant');
  });

  it('leaves other sign-ins of the same citizen working when one grant is revoked for reuse', async () => {
    const bystander = await redeem(config, await signInOffline('le-hoang-cuong'));
    const replayed = await redeem(config, await signInOffline('le-hoang-cuong'));
    await oidc.refreshTokenGrant(config, replayed.refresh_token!);
    await expect(oidc.refreshTokenGrant(config, replayed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    expect(await userinfoStatus(replayed.access_token)).toBe(401);
    expect(await userinfoStatus(bystander.access_token)).toBe(200);
    expect(await refreshOutcome(bystander.refresh_token)).toBe('tokens');
  });
});
