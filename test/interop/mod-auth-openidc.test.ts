// Apache httpd with Debian's mod_auth_openidc as a public service signing in through
// nixa: sign-in, step-up with `Require claim acr:…`, RP-initiated and back-channel
// logout, and a client authenticating with private_key_jwt. Apache runs from
// test/interop/apache/ on a free loopback port; without the packages the tests say
// so and are skipped.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { addClient } from '../../src/clients/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { SIMULATED_SOURCE_IDS, startFederation, type Federation } from '../support/federation.js';
import { freePort } from '../support/nixa.js';
import { waitFor } from '../support/wait.js';
import { apacheSkipReason, Browser, claimsShown, pageText, runScript, walk } from './harness.js';

if (apacheSkipReason) console.warn(`test/interop/mod-auth-openidc.test.ts ${apacheSkipReason}`);

const describeWithApache = apacheSkipReason ? describe.skip : describe;

interface Apache {
  base: string;
  stateDir: string;
  clientId: string;
}

describeWithApache(`Apache mod_auth_openidc as a relying party of nixa${apacheSkipReason ? ` (${apacheSkipReason})` : ''}`, () => {
  let tdb: TestDatabase | undefined;
  let fed: Federation | undefined;
  let issuer: string;
  const started: Apache[] = [];
  let apache: Apache;
  let apacheWithKey: Apache;

  /** Registers the service at nixa as an operator would, then starts its Apache. */
  async function startApache(name: string, auth: 'client_secret_basic' | 'private_key_jwt'): Promise<Apache> {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const stateDir = mkdtempSync(join(tmpdir(), `nixa-apache-${name}-`));
    const registration: Record<string, unknown> = {
      client_id: name,
      name: `Dịch vụ công thử nghiệm (${name})`,
      redirect_uris: [`${base}/protected/redirect_uri`],
      post_logout_redirect_uris: [`${base}/index.html`],
      backchannel_logout_uri: `${base}/protected/redirect_uri?logout=backchannel`,
      scope: 'openid profile',
      token_endpoint_auth_method: auth,
    };
    if (auth === 'private_key_jwt') {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      writeFileSync(join(stateDir, 'rp-key.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
      writeFileSync(join(stateDir, 'rp-pub.pem'), publicKey.export({ format: 'pem', type: 'spki' }));
      registration.jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'apache-rp', alg: 'RS256', use: 'sig' }] };
    }
    const { secret } = await addClient(tdb!.db, registration, 'test', { allowHttpLoopback: true, signingAlgs: ['ES256', 'RS256'] });
    const a = { base, stateDir, clientId: name };
    started.push(a);
    await runScript('apache/start.sh', [stateDir, issuer, name, String(port), ...(secret ? [secret] : [])]);
    return a;
  }

  beforeAll(async () => {
    tdb = await createTestDatabase();
    fed = await startFederation(tdb);
    issuer = fed.nixa.config.issuer;
    apache = await startApache('apache-rp', 'client_secret_basic');
    apacheWithKey = await startApache('apache-rp-key', 'private_key_jwt');
  }, 90_000);

  afterAll(async () => {
    // Each in turn, even if one fails, so nothing is left running.
    for (const a of started) {
      await runScript('apache/stop.sh', [a.stateDir]).catch((err: Error) => console.error(err.message));
      rmSync(a.stateDir, { recursive: true, force: true });
    }
    await fed?.close().catch((err: Error) => console.error(err.message));
    await tdb?.drop();
  }, 60_000);

  /** Opens Apache's protected page in a fresh browser and signs in through nixa. */
  async function signIn(at: Apache, source: keyof typeof SIMULATED_SOURCE_IDS, citizen: string, browser = new Browser()) {
    const first = await browser.go(`${at.base}/protected/info`);
    const { page, answered } = await walk(browser, first, at.base, { source: SIMULATED_SOURCE_IDS[source], citizen, consent: 'accept' });
    if (new URL(page.url).origin !== at.base || page.status !== 200) {
      throw new Error(`sign-in stopped: ${pageText(page)}\nApache's error log ends:\n${errorLog(at)}`);
    }
    return { browser, page, answered, claims: claimsShown(page) };
  }

  /** The end of Apache's error log, to explain a failure. */
  const errorLog = (at: Apache) => readFileSync(join(at.stateDir, 'logs', 'error.log'), 'utf8').split('\n').slice(-8).join('\n');

  const authorizationRequests = (browser: Browser) => browser.visited(new URL(issuer).origin).filter((u) => u.pathname === '/auth');

  it('signs a citizen in through the chooser, the citizen-ID source and consent, and hands Apache the claims', async () => {
    const { browser, answered, claims } = await signIn(apache, 'citizen_id', 'nguyen-van-an');
    expect(answered).toEqual(['chooser', 'source-picker', 'consent']);
    expect(claims.OIDC_CLAIM_iss).toBe(issuer);
    expect(claims.OIDC_CLAIM_aud).toBe('apache-rp');
    expect(claims.OIDC_CLAIM_acr).toBe('urn:nixa:loa:high');
    expect(claims.OIDC_CLAIM_amr?.split(',')).toContain('fed');
    expect(claims.OIDC_CLAIM_name).toBe('Nguyễn Văn An');
    expect(claims.OIDC_CLAIM_birthdate).toBe('1985-03-14');
    expect(claims.REMOTE_USER).toBe(claims.OIDC_CLAIM_sub);
    const [auth] = authorizationRequests(browser);
    expect(auth!.searchParams.get('code_challenge_method')).toBe('S256');

    // Apache's own session: the page again without a trip to nixa.
    const before = browser.trail.length;
    const again = await browser.go(`${apache.base}/protected/info`);
    expect(claimsShown(again).OIDC_CLAIM_sub).toBe(claims.OIDC_CLAIM_sub);
    expect(browser.trail.slice(before).every((t) => t.url.startsWith(apache.base))).toBe(true);
  });

  it('steps up: a location requiring acr high, after a telecom login at low, sends the citizen back to nixa with acr_values and ends at high in the same account', async () => {
    const low = await signIn(apache, 'telecom', 'hoang-minh-duc');
    expect(low.claims.OIDC_CLAIM_acr).toBe('urn:nixa:loa:low');

    const first = await low.browser.go(`${apache.base}/protected/high/info`);
    const stepUp = authorizationRequests(low.browser).at(-1)!;
    expect(stepUp.searchParams.get('acr_values')).toBe('urn:nixa:loa:high');
    // nixa's chooser says why the citizen is asked again, and offers only what reaches high.
    expect(first.html).toContain('cao hơn lần đăng nhập hiện tại');
    expect(first.html).not.toContain(`value="${SIMULATED_SOURCE_IDS.telecom}"`);
    const { page } = await walk(low.browser, first, apache.base, { source: SIMULATED_SOURCE_IDS.citizen_id, citizen: 'hoang-minh-duc', consent: 'accept' });
    expect(new URL(page.url).pathname).toBe('/protected/high/info');
    const high = claimsShown(page);
    expect(high.OIDC_CLAIM_acr).toBe('urn:nixa:loa:high');
    expect(high.OIDC_CLAIM_sub).toBe(low.claims.OIDC_CLAIM_sub);
  });

  it('signs out from Apache (RP-initiated): nixa ends its session and the source session, and the browser lands on Apache', async () => {
    const { browser, claims } = await signIn(apache, 'citizen_id', 'le-hoang-cuong');
    expect(claims.OIDC_CLAIM_sid).toBeTruthy();

    const loggedOut = `${apache.base}/index.html`;
    const first = await browser.go(`${apache.base}/protected/redirect_uri?logout=${encodeURIComponent(loggedOut)}`);
    const endSession = browser.visited(new URL(issuer).origin).find((u) => u.pathname === '/session/end')!;
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(loggedOut);
    const { page, answered } = await walk(browser, first, apache.base, { signOut: true });
    expect(answered[0]).toBe(`sign-out@${new URL(issuer).origin}`);
    expect(page.url).toBe(loggedOut);
    expect(page.html).toContain('signed out');

    // Neither Apache nor nixa remembers the citizen: the protected page leads to nixa's chooser.
    const again = await browser.go(`${apache.base}/protected/info`);
    expect(new URL(again.url).origin).toBe(new URL(issuer).origin);
    expect(again.html).toContain(`value="${SIMULATED_SOURCE_IDS.citizen_id}"`);
  });

  it('signs Apache out by back-channel logout when the citizen signs out of nixa elsewhere', async () => {
    const { browser } = await signIn(apache, 'bank', 'pham-thi-dung');
    // Signing out at nixa directly (as from another service), not through Apache.
    const confirm = await browser.go(`${issuer}/session/end`);
    const { answered } = await walk(browser, confirm, apache.base, { signOut: true });
    expect(answered[0]).toBe(`sign-out@${new URL(issuer).origin}`);
    // nixa POSTed a logout token to Apache's back-channel URL, and Apache accepted it.
    const accessLog = () => readFileSync(join(apache.stateDir, 'logs', 'access.log'), 'utf8');
    await waitFor(() => /"POST \/protected\/redirect_uri\?logout=backchannel HTTP\/1\.1" 200 /.test(accessLog()), 5_000, 'the back-channel logout at Apache');
    // Apache's session is gone though the browser still holds its cookie: back to nixa.
    expect(browser.agent.cookies.get(new URL(apache.base).host)?.size).toBeGreaterThan(0);
    const res = await browser.request(`${apache.base}/protected/info`);
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('location')!).origin).toBe(new URL(issuer).origin);
  });

  it('signs in with a service that authenticates to the token endpoint with private_key_jwt', async () => {
    const { claims } = await signIn(apacheWithKey, 'citizen_id', 'tran-thi-binh');
    expect(claims.OIDC_CLAIM_aud).toBe('apache-rp-key');
    expect(claims.OIDC_CLAIM_acr).toBe('urn:nixa:loa:high');
    // The site has no client secret at all: only the key could have authenticated it.
    expect(readFileSync(join(apacheWithKey.stateDir, 'site.conf'), 'utf8')).toMatch(/^OIDCProviderTokenEndpointAuth private_key_jwt$/m);
    expect(readFileSync(join(apacheWithKey.stateDir, 'site.conf'), 'utf8')).not.toContain('OIDCClientSecret');
  });
});
