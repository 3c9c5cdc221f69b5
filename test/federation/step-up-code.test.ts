// Step-up with a one-time code over real HTTP: a citizen whose identity was
// proven at high (Citizen ID) and who enrolled an authenticator app signs in
// another day through Telecom (low); a service asks for substantial; the chooser
// offers the code form above the sources; a right code raises the same session in
// the same account. Wrong, reused and too many codes are refused in plain words;
// the policy decides whether a recovery code may be offered.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type * as oidc from 'openid-client';
import { generate } from 'otplib';

import { DEFAULT_POLICY_DOCUMENT } from '../../src/assurance/index.js';
import { confirmTotpEnrolment, startTotpEnrolment } from '../../src/factors/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type FederatedSignIn, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';

const SUBSTANTIAL = { acr_values: 'urn:nixa:loa:substantial' };

interface Setup {
  tdb: TestDatabase;
  fed: Federation;
  portal: TestClient;
  config: oidc.Configuration;
}

async function setUp(env: Record<string, string> = {}): Promise<Setup> {
  const tdb = await createTestDatabase();
  const fed = await startFederation(tdb, env);
  const portal = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng thuế điện tử' });
  return { tdb, fed, portal, config: await discover(fed.nixa.config.issuer, portal) };
}

const field = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1];
const codeAt = (secret: string, when = new Date()) => generate({ secret, epoch: Math.floor(when.getTime() / 1000) });
const STEP = 30_000;

/** Keeps a code typed now from crossing into the next 30-second step on its way to the server. */
async function awayFromStepEdge(): Promise<void> {
  const into = (Date.now() / 1000) % 30;
  if (into > 26) await new Promise((r) => setTimeout(r, (30 - into + 0.5) * 1000));
}

async function wrongCode(secret: string): Promise<string> {
  const valid = new Set(await Promise.all([-2, -1, 0, 1, 2].map((d) => codeAt(secret, new Date(Date.now() + d * STEP)))));
  for (let n = 1; ; n += 1) {
    const c = String(n * 7919).padStart(6, '0').slice(-6);
    if (!valid.has(c)) return c;
  }
}

/**
 * Signs in through Citizen ID (high) and enrols an app at /account; its first code
 * is the previous step's, so that the current step is still free for a step-up.
 */
async function enrolled(s: Setup, citizen: string): Promise<{ secret: string; recoveryCodes: string[]; sub: string }> {
  const signIn = await federatedSignIn(s.config, s.portal.redirectUri, { source: 'citizen_id', citizen, consent: 'accept' });
  const sub = (await redeemFederated(s.config, signIn)).claims()!.sub;
  const base = s.fed.nixa.config.issuer;
  const page = await (await signIn.agent.request(new URL('/account', base))).text();
  const form = (fields: Record<string, string>) => ({
    method: 'POST',
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  const csrf = field(page, 'csrf')!;
  const start = await (await signIn.agent.request(new URL('/account/totp', base), form({ csrf }))).text();
  const secret = /<code class="secret">([A-Z2-7 ]+)<\/code>/.exec(start)![1]!.replaceAll(' ', '');
  await awayFromStepEdge();
  const done = await signIn.agent.request(
    new URL('/account/totp/confirm', base),
    form({ csrf, factorId: field(start, 'factorId')!, code: await codeAt(secret, new Date(Date.now() - STEP)) }),
  );
  expect(done.status).toBe(200);
  const recoveryCodes = [...(await done.text()).matchAll(/<code>([0-9A-Z]{5}-[0-9A-Z]{5})<\/code>/g)].map((m) => m[1]!);
  expect(recoveryCodes).toHaveLength(10);
  return { secret, recoveryCodes, sub };
}

/** A new browser signed in through Telecom (low), then sent back by a service asking substantial: the chooser. */
async function askedForMore(s: Setup, citizen: string): Promise<FederatedSignIn & { html: string; uid: string }> {
  const low = await federatedSignIn(s.config, s.portal.redirectUri, { source: 'telecom', citizen, consent: 'accept' });
  expect((await redeemFederated(s.config, low)).claims()!.acr).toBe('urn:nixa:loa:low');
  const stepUp = await federatedSignIn(s.config, s.portal.redirectUri, { agent: low.agent, extra: SUBSTANTIAL });
  expect(stepUp.page?.status).toBe(200);
  return { ...stepUp, html: stepUp.page!.html, uid: new URL(stepUp.page!.url).pathname.split('/')[2]! };
}

/** Submits the code form; follows to the service when accepted. */
async function submitCode(s: Setup, at: FederatedSignIn & { html: string; uid: string }, fields: Record<string, string>) {
  const step = await at.agent.submit(new URL(`/interaction/${at.uid}/code`, s.fed.nixa.config.issuer), fields, s.portal.redirectUri);
  const issued = step.stoppedAt ? { ...at, stoppedAt: step.stoppedAt } : undefined;
  return { status: step.res.status, html: step.stoppedAt ? '' : await step.res.text(), issued, retryAfter: step.res.headers.get('retry-after') };
}

const events = async (s: Setup, event: string) =>
  (await s.tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events WHERE event = $1', [event])).rows[0]!.n;

describe('stepping up with an authenticator-app code (default policy)', () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp();
  });
  afterAll(async () => {
    await s?.fed.close();
    await s?.tdb.drop();
  });

  it('offers the code form to a citizen proven at high, and a right code gives substantial in the same account; a reused one is refused', async () => {
    const app = await enrolled(s, 'hoang-minh-duc');
    const at = await askedForMore(s, 'hoang-minh-duc');
    expect(at.html).toContain('Nhập mã từ ứng dụng xác thực');
    expect(at.html).toContain(`action="/interaction/${at.uid}/code"`);
    // Above the sources, which are still offered.
    expect(at.html.indexOf('name="code"')).toBeLessThan(at.html.indexOf('name="source"'));
    expect(at.html).toContain('value="sim-citizen-id"');
    // A recovery code gives only low under the default policy: not offered for substantial.
    expect(at.html).not.toContain('value="recovery-code"');

    await awayFromStepEdge();
    const code = await codeAt(app.secret);
    const ok = await submitCode(s, at, { csrf: field(at.html, 'csrf')!, method: 'totp', code });
    expect(ok.issued).toBeDefined();
    const claims = (await redeemFederated(s.config, ok.issued!)).claims()!;
    expect(claims.acr).toBe('urn:nixa:loa:substantial');
    expect(claims.amr).toEqual(expect.arrayContaining(['otp', 'fed', 'mfa']));
    expect(claims.sub).toBe(app.sub);

    // The session is now at substantial: asked again, nothing more is asked.
    const again = await federatedSignIn(s.config, s.portal.redirectUri, { agent: at.agent, extra: SUBSTANTIAL });
    expect(again.pages).toEqual([]);
    expect((await redeemFederated(s.config, again)).claims()!.acr).toBe('urn:nixa:loa:substantial');

    // The same code in another browser: refused, in plain words, nothing issued.
    const other = await askedForMore(s, 'hoang-minh-duc');
    const reused = await submitCode(s, other, { csrf: field(other.html, 'csrf')!, method: 'totp', code });
    expect(reused.issued).toBeUndefined();
    expect(reused.status).toBe(400);
    expect(reused.html).toContain('Mã này đã được dùng');
    expect(reused.html).toContain('name="code"');
  });

  it('shows a wrong code as an error with nothing issued, and five wrong codes as a stated wait', async () => {
    const app = await enrolled(s, 'nguyen-van-an');
    const at = await askedForMore(s, 'nguyen-van-an');
    const csrf = field(at.html, 'csrf')!;
    const wrong = await wrongCode(app.secret);
    const before = await events(s, 'FACTOR_FAILED');

    const first = await submitCode(s, at, { csrf, method: 'totp', code: wrong });
    expect(first.issued).toBeUndefined();
    expect(first.status).toBe(400);
    expect(first.html).toContain('Mã không đúng');
    expect(first.html).toContain('That code is not right');
    expect(first.html).toContain('name="source"');

    let last = first;
    for (let i = 2; i <= 5; i++) {
      // Skip the growing delay between attempts (0, 2, 4, 8 s) instead of sleeping through it.
      await s.tdb.db.query("UPDATE factor_attempts SET last_failure_at = last_failure_at - interval '1 minute' WHERE scope = 'account'");
      last = await submitCode(s, at, { csrf, method: 'totp', code: wrong });
      expect(last.issued).toBeUndefined();
    }
    expect(await events(s, 'FACTOR_FAILED')).toBe(before + 5);
    expect(last.html).toContain('Hãy đợi 5 phút');
    expect(last.html).toContain('Please wait 5 minutes');

    // Locked: even the right code now only repeats the wait.
    await awayFromStepEdge();
    const locked = await submitCode(s, at, { csrf, method: 'totp', code: await codeAt(app.secret) });
    expect(locked.issued).toBeUndefined();
    expect(locked.status).toBe(429);
    expect(Number(locked.retryAfter)).toBeGreaterThan(200);
    expect(locked.html).toContain('phút');
    // The chooser shown afresh says it too.
    const page = await at.agent.request(new URL(`/interaction/${at.uid}`, s.fed.nixa.config.issuer));
    expect(await page.text()).toContain('Please wait 5 minutes');
  });

  it('refuses a code without the CSRF token, counting and spending nothing', async () => {
    // hoang-minh-duc enrolled an app in the first test.
    const at = await askedForMore(s, 'hoang-minh-duc');
    expect(at.html).toContain('name="code"');
    const attempts = (await s.tdb.db.query('SELECT 1 FROM factor_attempts')).rows.length;
    const used = await events(s, 'FACTOR_USED');
    const res = await submitCode(s, at, { method: 'totp', code: '123456' });
    expect(res.status).toBe(400);
    expect(res.issued).toBeUndefined();
    expect((await s.tdb.db.query('SELECT 1 FROM factor_attempts')).rows.length).toBe(attempts);
    expect(await events(s, 'FACTOR_USED')).toBe(used);
    // A method the sign-in does not offer is refused the same way.
    const recovery = await submitCode(s, at, { csrf: field(at.html, 'csrf')!, method: 'recovery-code', code: 'ABCDE-FGHJK' });
    expect(recovery.status).toBe(400);
    expect((await s.tdb.db.query('SELECT 1 FROM factor_attempts')).rows.length).toBe(attempts);
  });

  it('does not offer the code form to a Telecom-only citizen, even one holding an app', async () => {
    const low = await federatedSignIn(s.config, s.portal.redirectUri, { source: 'telecom', citizen: 'bui-thi-lan', consent: 'accept' });
    await redeemFederated(s.config, low);
    const { rows } = await s.tdb.db.query<{ account_id: string }>(
      "SELECT account_id FROM linked_identities WHERE source_id = 'sim-telecom' ORDER BY last_login_at DESC LIMIT 1",
    );
    // An app enrolled (by whatever means) in a substantial session: her identity is still proven only at low.
    const ctx = { db: s.tdb.db, cipher: s.fed.nixa.cipher };
    const e = await startTotpEnrolment(ctx, rows[0]!.account_id, 'Bùi Thị Lan', new Date(), 'substantial');
    expect((await confirmTotpEnrolment(ctx, rows[0]!.account_id, e.factorId, await codeAt(e.secret))).ok).toBe(true);

    const stepUp = await federatedSignIn(s.config, s.portal.redirectUri, { agent: low.agent, extra: SUBSTANTIAL });
    const html = stepUp.page!.html;
    expect(html).toContain('cao hơn lần đăng nhập hiện tại');
    expect(html).not.toContain('name="code"');
    expect(html).toContain('value="sim-citizen-id"');
  });
});

describe('stepping up with a recovery code (a policy that lets one reach substantial)', () => {
  let s: Setup;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nixa-policy-'));
    const file = join(dir, 'policy.json');
    const doc = structuredClone(DEFAULT_POLICY_DOCUMENT) as { factors: { recovery_code: { level: string } } };
    doc.factors.recovery_code.level = 'substantial';
    writeFileSync(file, JSON.stringify(doc));
    s = await setUp({ NIXA_ASSURANCE_POLICY_FILE: file });
  });
  afterAll(async () => {
    await s?.fed.close();
    await s?.tdb.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts each recovery code once', async () => {
    const app = await enrolled(s, 'hoang-minh-duc');
    const at = await askedForMore(s, 'hoang-minh-duc');
    expect(at.html).toContain('value="recovery-code"');
    const [first, second] = app.recoveryCodes;

    const ok = await submitCode(s, at, { csrf: field(at.html, 'csrf')!, method: 'recovery-code', code: first!.toLowerCase() });
    expect(ok.issued).toBeDefined();
    const claims = (await redeemFederated(s.config, ok.issued!)).claims()!;
    expect(claims.acr).toBe('urn:nixa:loa:substantial');
    expect(claims.amr).toEqual(expect.arrayContaining(['kba', 'fed']));
    expect(claims.amr).not.toContain('mfa'); // a recovery code is not a distinct factor
    expect(claims.sub).toBe(app.sub);

    const other = await askedForMore(s, 'hoang-minh-duc');
    const again = await submitCode(s, other, { csrf: field(other.html, 'csrf')!, method: 'recovery-code', code: first! });
    expect(again.issued).toBeUndefined();
    expect(again.html).toContain('Mã không đúng');

    const next = await submitCode(s, other, { csrf: field(other.html, 'csrf')!, method: 'recovery-code', code: second! });
    expect(next.issued).toBeDefined();
    expect((await redeemFederated(s.config, next.issued!)).claims()!.acr).toBe('urn:nixa:loa:substantial');
  });
});
