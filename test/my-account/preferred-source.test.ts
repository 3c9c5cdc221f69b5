// The source offered first (issue 12, section 3): chosen at /account, stored with
// the account, and remembered in the browser (a long-lived cookie set when chosen
// and at sign-in), since the chooser runs before nixa knows who is there.
import * as oidc from 'openid-client';

import { SIMULATED_SOURCE_IDS } from '../../src/app/dev-sources.js';
import { PREFERRED_SOURCE_COOKIE, preferredFirst } from '../../src/my-account/source-preference.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { field, pagesAt } from '../support/pages.js';
import { UserAgent } from '../support/user-agent.js';

describe('preferredFirst (pure)', () => {
  const list = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];

  it('puts the preferred source first and keeps the others in their order', () => {
    expect(preferredFirst(list, 'c').map((s) => s.id)).toEqual(['c', 'a', 'b']);
    expect(preferredFirst(list, 'b').map((s) => s.id)).toEqual(['b', 'a', 'c']);
    expect(preferredFirst(list, 'a').map((s) => s.id)).toEqual(['a', 'b', 'c']);
  });

  it('changes nothing for no preference or one naming no offered source, and never the list given', () => {
    expect(preferredFirst(list, undefined)).toEqual(list);
    expect(preferredFirst(list, 'sim-nowhere')).toEqual(list);
    expect(preferredFirst([], 'a')).toEqual([]);
    const copy = preferredFirst(list, 'c');
    expect(copy).not.toBe(list);
    expect(list.map((s) => s.id)).toEqual(['a', 'b', 'c']);
  });
});

let tdb: TestDatabase;
let fed: Federation;
let portal: TestClient;
let config: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  portal = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công' });
  config = await discover(fed.nixa.config.issuer, portal);
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

const { citizen_id: CITIZEN_ID, telecom: TELECOM, bank: BANK } = SIMULATED_SOURCE_IDS;
const issuer = () => new URL(fed.nixa.config.issuer);
const { url, post } = pagesAt(() => fed.nixa.config.issuer);

/** The source ids on the chooser this browser is shown, in order. */
async function chooserOrder(agent: UserAgent): Promise<string[]> {
  const auth = oidc.buildAuthorizationUrl(config, {
    redirect_uri: portal.redirectUri,
    scope: 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
    state: oidc.randomState(),
  });
  const step = await agent.follow(auth, {}, portal.redirectUri);
  const html = await step.res.text();
  return [...html.matchAll(/name="source" value="([^"]+)"/g)].map((m) => m[1]!);
}

const stored = async () => (await tdb.db.query<{ preferred_source: string | null }>('SELECT preferred_source FROM accounts')).rows.map((r) => r.preferred_source);

describe('the source offered first', () => {
  let cuong: UserAgent;
  let order: string[];

  it('is the registry’s order until chosen, and a cookie naming nothing offered changes nothing', async () => {
    order = await chooserOrder(new UserAgent());
    expect([...order].sort()).toEqual([BANK, CITIZEN_ID, TELECOM].sort());
    // The bank is not first on its own: the test below can see a preference move it.
    expect(order[0]).not.toBe(BANK);
    const forged = new UserAgent();
    forged.setCookie(issuer(), PREFERRED_SOURCE_COOKIE, '"><script>');
    expect(await chooserOrder(forged)).toEqual(order);
    const gone = new UserAgent();
    gone.setCookie(issuer(), PREFERRED_SOURCE_COOKIE, 'sim-nowhere');
    expect(await chooserOrder(gone)).toEqual(order);
  });

  it('is chosen at /account: stored with the account and remembered by this browser', async () => {
    const s = await federatedSignIn(config, portal.redirectUri, { source: 'citizen_id', citizen: 'le-hoang-cuong', consent: 'accept' });
    await redeemFederated(config, s);
    cuong = s.agent;
    const page = await (await cuong.request(url('/account'))).text();
    expect(page).toContain(`name="source" value="${BANK}"`);
    const csrf = field(page, 'csrf')!;

    // An unknown source or a missing token: refused, nothing stored.
    expect((await post(cuong, '/account/preferred-source', { csrf, source: 'sim-nowhere' })).res.status).toBe(404);
    expect((await post(cuong, '/account/preferred-source', { source: BANK })).res.status).toBe(400);
    expect(await stored()).toEqual([null]);

    const done = await post(cuong, '/account/preferred-source', { csrf, source: BANK });
    expect(done.res.status).toBe(200);
    expect(done.res.headers.getSetCookie().find((c) => c.startsWith(`${PREFERRED_SOURCE_COOKIE}=`))).toMatch(/max-age=34560000|expires=/i);
    expect(done.html).toContain(`value="${BANK}" checked`);
    expect(await stored()).toEqual([BANK]);
    expect(cuong.cookies.get(issuer().host)?.get(PREFERRED_SOURCE_COOKIE)).toBe(BANK);
  });

  it('is learnt by a new browser at sign-in, which then offers it first', async () => {
    const s = await federatedSignIn(config, portal.redirectUri, { source: 'citizen_id', citizen: 'le-hoang-cuong', consent: 'accept' });
    expect(s.stoppedAt).toBeDefined();
    expect(s.agent.cookies.get(issuer().host)?.get(PREFERRED_SOURCE_COOKIE)).toBe(BANK);
    const fresh = new UserAgent();
    fresh.setCookie(issuer(), PREFERRED_SOURCE_COOKIE, BANK);
    expect(await chooserOrder(fresh)).toEqual([BANK, ...order.filter((id) => id !== BANK)]);
  });

  it('is forgotten when cleared, and when that source is blocked', async () => {
    const csrf = field(await (await cuong.request(url('/account'))).text(), 'csrf')!;
    await post(cuong, '/account/preferred-source', { csrf, source: '' });
    expect(await stored()).toEqual([null]);
    expect(cuong.cookies.get(issuer().host)?.get(PREFERRED_SOURCE_COOKIE)).toBeUndefined();

    await post(cuong, '/account/preferred-source', { csrf, source: TELECOM });
    expect(await stored()).toEqual([TELECOM]);
    await post(cuong, `/account/sources/${TELECOM}/block`, { csrf });
    expect(await stored()).toEqual([null]);
    expect(cuong.cookies.get(issuer().host)?.get(PREFERRED_SOURCE_COOKIE)).toBeUndefined();
  });
});
