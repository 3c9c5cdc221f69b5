// LemonLDAP::NG from Debian as an upstream identity source of nixa: a citizen signs
// in to a service through it and lands in the account linked by national ID number;
// the level the service asks reaches it; prompt=login is not satisfied by its own
// lingering session; signing out of nixa signs out of it too. LemonLDAP runs from
// test/interop/lemonldap/ on a free loopback port; without the packages the tests
// say so and are skipped.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as oidc from 'openid-client';

import { SIGNED_OUT_PATH } from '../../src/federation/index.js';
import { CALLBACK_PATH } from '../../src/interactions/index.js';
import { addSource } from '../../src/sources/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { SIMULATED_SOURCE_IDS, startFederation, type Federation } from '../support/federation.js';
import { freePort } from '../support/nixa.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { waitFor } from '../support/wait.js';
import { Browser, lemonldapSkipReason, pageText, runScript, walk, type Answers } from './harness.js';

if (lemonldapSkipReason) console.warn(`test/interop/lemonldap.test.ts ${lemonldapSkipReason}`);

const describeWithLemonldap = lemonldapSkipReason ? describe.skip : describe;

// nixa's registration of LemonLDAP, as an operator would write it. Its client id has a
// dash: LemonLDAP 2.16 does not URL-decode HTTP Basic credentials (RFC 6749 §2.3.1
// has clients form-encode them, so "-" arrives as "%2D"), hence client_secret_post.
const REGISTRATION = JSON.parse(readFileSync(fileURLToPath(new URL('lemonldap/source.json', import.meta.url)), 'utf8')) as Record<string, unknown> & {
  client_id: string;
  client_secret: string;
};

// LemonLDAP's Demo user dwho, given the identity of the simulated citizen Lê Hoàng Cường
// (test/interop/lemonldap/national-id.json): the same person at two sources.
const LINKED_CITIZEN = { lemonldapUser: 'dwho', simulated: 'le-hoang-cuong', nationalId: '048201007396', name: 'Lê Hoàng Cường' };

describeWithLemonldap(`LemonLDAP::NG as an upstream identity source of nixa${lemonldapSkipReason ? ` (${lemonldapSkipReason})` : ''}`, () => {
  let tdb: TestDatabase | undefined;
  let fed: Federation | undefined;
  let stateDir: string | undefined;
  let lemonldap: string;
  let service: TestClient;
  let config: oidc.Configuration;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    fed = await startFederation(tdb);
    const issuer = fed.nixa.config.issuer;
    const port = await freePort();
    lemonldap = `http://localhost:${port}`;
    stateDir = mkdtempSync(join(tmpdir(), 'nixa-lemonldap-'));
    await runScript('lemonldap/start.sh', [
      stateDir,
      String(port),
      `${issuer}${CALLBACK_PATH}`,
      `${issuer}${SIGNED_OUT_PATH}`,
      REGISTRATION.client_id,
      REGISTRATION.client_secret,
    ], 90_000);
    await addSource(tdb.db, fed.nixa.cipher, { ...REGISTRATION, discovery_url: `${lemonldap}/.well-known/openid-configuration` }, 'test', { allowHttpLoopback: true });
    await fed.nixa.sources.refresh();
    service = await registerTestClient(tdb.db, { scope: 'openid profile national_id', name: 'Cổng dịch vụ công quốc gia (thử nghiệm)' });
    config = await discover(issuer, service);
  }, 150_000);

  afterAll(async () => {
    // Each in turn, even if one fails, so nothing is left running.
    if (stateDir) {
      await runScript('lemonldap/stop.sh', [stateDir, '--purge-sessions']).catch((err: Error) => console.error(err.message));
      rmSync(stateDir, { recursive: true, force: true });
    }
    await fed?.close().catch((err: Error) => console.error(err.message));
    await tdb?.drop();
  }, 60_000);

  /** The service sends the browser to nixa; the citizen answers the pages until the service's redirect URI. */
  async function signIn(answers: Answers, extra: Record<string, string> = {}, browser = new Browser()) {
    browser.stopAt = service.redirectUri;
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: service.redirectUri,
      scope: 'openid profile national_id',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...extra,
    });
    const { page, answered } = await walk(browser, await browser.go(url), new URL(service.redirectUri).origin, answers);
    const callback = page.url.startsWith(service.redirectUri) ? new URL(page.url) : undefined;
    const redeem = async () => {
      if (!callback?.searchParams.get('code')) throw new Error(`no code for the service: ${pageText(page)}`);
      return oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    };
    return { browser, page, answered, callback, redeem };
  }

  /** The authorization requests nixa sent the browser with to LemonLDAP. */
  const upstreamRequests = (browser: Browser) => browser.visited(lemonldap).filter((u) => u.pathname === '/oauth2/authorize');

  const throughLemonldap: Answers = { source: 'lemonldap', lemonldapUser: LINKED_CITIZEN.lemonldapUser, consent: 'accept' };

  it('signs a citizen in through LemonLDAP into the account linked by national ID number', async () => {
    const first = await signIn({ source: SIMULATED_SOURCE_IDS.citizen_id, citizen: LINKED_CITIZEN.simulated, consent: 'accept' });
    const atCitizenId = (await first.redeem()).claims()!;

    const viaLemonldap = await signIn(throughLemonldap);
    // No consent page: this service already has the consent of this account.
    expect(viaLemonldap.answered).toEqual(['chooser', 'lemonldap-login']);
    const claims = (await viaLemonldap.redeem()).claims()!;
    expect(claims.sub).toBe(atCitizenId.sub);
    expect(claims.national_id).toBe(LINKED_CITIZEN.nationalId);
    expect(claims.name).toBe(LINKED_CITIZEN.name);
    // LemonLDAP's loa-1 is low, whatever the account's proofing from the citizen-ID source.
    expect(claims.acr).toBe('urn:nixa:loa:low');
    expect(claims.amr).toContain('fed');
    // PKCE towards LemonLDAP too (it requires it of nixa).
    const [upstream] = upstreamRequests(viaLemonldap.browser);
    expect(upstream!.searchParams.get('code_challenge_method')).toBe('S256');
    // LemonLDAP's answer completes the sign-in at nixa's callback, with no hop through /interaction/<uid>/upstream.
    const atNixa = viaLemonldap.browser.visited(new URL(fed!.nixa.config.issuer).origin).map((u) => u.pathname);
    const back = atNixa.indexOf(CALLBACK_PATH);
    expect(back).toBeGreaterThan(0);
    expect(atNixa[back + 1]).toMatch(/^\/auth\/[\w-]+$/);
    expect(atNixa.filter((p) => p.endsWith('/upstream'))).toEqual([]);
  });

  it('passes the level the service asks on to LemonLDAP as acr_values', async () => {
    const s = await signIn(throughLemonldap, { acr_values: 'urn:nixa:loa:low' });
    const [upstream] = upstreamRequests(s.browser);
    expect(upstream!.searchParams.get('acr_values')?.split(' ')).toContain('loa-1');
    expect((await s.redeem()).claims()!.acr).toBe('urn:nixa:loa:low');
  });

  it('does not let LemonLDAP answer prompt=login from its lingering session: nixa refuses the stale login', async () => {
    const first = await signIn(throughLemonldap);
    await first.redeem();
    const signedInAt = Date.now();
    // A login a few seconds old cannot be told from a fresh one across two clocks: nixa
    // allows for clock skew. Let LemonLDAP's login age past that (15 s, nixa's default
    // NIXA_CLOCK_TOLERANCE_SECONDS), as a citizen's earlier sign-in would have.
    await waitFor(() => Date.now() - signedInAt > 16_000, 20_000, "LemonLDAP's login to age past nixa's clock tolerance", 250);
    // LemonLDAP ignores prompt=login while its session lives (no login form, the old auth_time).
    const again = await signIn({ source: 'lemonldap', consent: 'accept' }, { prompt: 'login' }, first.browser);
    const upstream = upstreamRequests(again.browser).at(-1)!;
    expect(upstream.searchParams.get('prompt') === 'login' || upstream.searchParams.get('max_age') === '0').toBe(true);
    expect(again.answered).not.toContain('lemonldap-login');
    // LemonLDAP answered nixa at once from its old session (start.sh makes it do so)...
    const callbackPath = new URL(CALLBACK_PATH, fed!.nixa.config.issuer).href;
    expect(again.browser.trail.some((t) => t.url.startsWith(callbackPath) && again.browser.trail.indexOf(t) > again.browser.trail.findIndex((u) => u.url === upstream.href))).toBe(true);
    // ...and the service gets no code for a login that did not happen.
    expect(again.callback?.searchParams.get('code') ?? null).toBeNull();
  });

  it('accepts prompt=login once LemonLDAP has authenticated the citizen again', async () => {
    const first = await signIn(throughLemonldap);
    const firstClaims = (await first.redeem()).claims()!;
    // LemonLDAP's session has ended (its cookie is gone); nixa's lives on.
    first.browser.forget(lemonldap);
    const before = Math.floor(Date.now() / 1000);
    const again = await signIn({ source: 'lemonldap', lemonldapUser: LINKED_CITIZEN.lemonldapUser, consent: 'accept' }, { prompt: 'login' }, first.browser);
    expect(again.answered).toContain('lemonldap-login');
    const claims = (await again.redeem()).claims()!;
    expect(claims.sub).toBe(firstClaims.sub);
    expect(claims.auth_time).toBeGreaterThanOrEqual(before);
  });

  it('signs the citizen out of nixa and of LemonLDAP, with no ID token in any URL', async () => {
    const s = await signIn(throughLemonldap);
    const tokens = await s.redeem();
    const postLogout = service.redirectUri.replace('/callback', '/');
    s.browser.stopAt = postLogout;
    const endSession = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: postLogout, state: 'da-dang-xuat' });
    const start = s.browser.trail.length;
    const { page, answered } = await walk(s.browser, await s.browser.go(endSession), new URL(postLogout).origin, { signOut: true });
    expect(answered).toContain(`sign-out@${new URL(fed!.nixa.config.issuer).origin}`);
    // The browser went through LemonLDAP's sign-out and came back to the service.
    expect(s.browser.visited(lemonldap).some((u) => u.pathname === '/oauth2/logout')).toBe(true);
    expect(page.url.startsWith(postLogout)).toBe(true);
    expect(new URL(page.url).searchParams.get('state')).toBe('da-dang-xuat');
    const signOutTrail = s.browser.trail.slice(start).map((t) => new URL(t.url));

    // LemonLDAP's session is gone too: the next sign-in there asks for the password.
    const next = await signIn({ source: 'lemonldap' }, {}, s.browser);
    expect(new URL(next.page.url).origin).toBe(lemonldap);
    expect(next.page.html).toContain('name="password"');

    // nixa did not put LemonLDAP's ID token in a URL (where logs and Referer keep it).
    // (The service's own request to nixa carries nixa's token: the service's choice.)
    const leaks = signOutTrail.filter((u) => u.origin !== new URL(fed!.nixa.config.issuer).origin && u.searchParams.has('id_token_hint'));
    expect(leaks.map((u) => `${u.origin}${u.pathname} has id_token_hint in its query`)).toEqual([]);
  });
});
