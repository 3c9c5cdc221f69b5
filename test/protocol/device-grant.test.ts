// The device authorization grant (RFC 8628) end to end: openid-client v6 is the
// kiosk (initiateDeviceAuthorization, pollDeviceAuthorizationGrant); the citizen's
// phone is a plain HTTP user agent that opens the verification link, types or
// confirms the code, signs in with the test login and lands on nixa's page.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';

import type { Nixa } from '../../src/app/index.js';
import { DEVICE_CODE_GRANT, parseClientInput } from '../../src/clients/index.js';
import { InvalidInputError } from '../../src/errors/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestNixa } from '../support/nixa.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';

let tdb: TestDatabase;
let nixa: Nixa;
let kiosk: TestClient;
let config: oidc.Configuration;

const KIOSK_NAME = 'Ki-ốt dịch vụ công — UBND phường Bến Nghé';

// A generous timeout: the embedded database's first start takes long on a busy machine.
beforeAll(async () => {
  tdb = await createTestDatabase();
  // Behind a trusted proxy, so that each test's phone can come from an address of its own.
  nixa = await startTestNixa(tdb.db, { NIXA_TRUST_PROXY: 'true' });
  kiosk = await registerTestClient(tdb.db, {
    name: KIOSK_NAME,
    grant_types: [DEVICE_CODE_GRANT],
    token_endpoint_auth_method: 'none',
    redirect_uris: [],
    post_logout_redirect_uris: [],
    scope: 'openid profile',
  });
  config = await discover(nixa.config.issuer, kiosk);
}, 180_000);

afterAll(async () => {
  await nixa?.close();
  await tdb?.drop();
});

let addresses = 0;
/** A phone's browser, from an address no other test uses (X-Forwarded-For, trusted here), or from `ip`. */
function phone(ip = `198.51.100.${++addresses}`): UserAgent {
  return new UserAgent((url, init) => {
    const headers = new Headers(init.headers);
    headers.set('x-forwarded-for', ip);
    return fetch(url, { ...init, headers, redirect: 'manual' });
  });
}

/** The page without the one script every nixa page has (it registers the web app's service worker, src/app/web-app.ts). */
const withoutWebApp = (html: string) => html.replace('<script src="/assets/web-app.js" defer></script>', '');
const field = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
const verification = () => new URL('/device', nixa.config.issuer);

/** Types `code` into the form at /device (opened afresh) and returns the answer. */
async function typeCode(agent: UserAgent, code: string) {
  const form = await agent.request(verification());
  const html = await form.text();
  expect(form.status).toBe(200);
  const xsrf = field(html, 'xsrf')!;
  return agent.submit(verification(), { xsrf, user_code: code });
}

/** From the confirmation page: press "continue" (confirm) or "not me" (abort). */
async function answerConfirmation(agent: UserAgent, html: string, answer: 'confirm' | 'abort') {
  return agent.submit(verification(), { xsrf: field(html, 'xsrf')!, user_code: field(html, 'user_code')!, [answer]: 'yes' });
}

/** Signs in on the test login page the journey shows, and follows to nixa's device page. */
async function testLogin(agent: UserAgent, step: { res: Response; url: string }, account: string) {
  const html = await step.res.text();
  const action = /action="(\/interaction\/[^"]+\/login)"/.exec(html)?.[1];
  if (!action) throw new Error(`expected the test login page, got ${step.res.status} at ${step.url}: ${html.slice(0, 300)}`);
  return agent.submit(new URL(action, step.url), { account, csrf: field(html, 'csrf')! });
}

/** The whole phone side: the link, the confirmation, the sign-in; returns the last page. */
async function approveOnPhone(agent: UserAgent, d: oidc.DeviceAuthorizationResponse, account: string) {
  const opened = await agent.request(d.verification_uri_complete!);
  const form = await opened.text();
  const confirm = await agent.submit(verification(), { xsrf: field(form, 'xsrf')!, user_code: field(form, 'user_code')! });
  const confirmHtml = await confirm.res.text();
  const signIn = await answerConfirmation(agent, confirmHtml, 'confirm');
  const done = await testLogin(agent, signIn, account);
  return { status: done.res.status, url: done.url, html: await done.res.text(), confirmHtml };
}

/** One poll at the token endpoint, by hand (openid-client waits the interval and hides pending and slow_down). */
async function poll(deviceCode: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(new URL('/token', nixa.config.issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_id: kiosk.clientId }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const auditEvents = async (event: string) =>
  (await tdb.db.query<{ actor: string; subject: string | null; details: Record<string, unknown> }>('SELECT actor, subject, details FROM audit_events WHERE event = $1 ORDER BY seq', [event])).rows;

/**
 * Moves a device code's clock on to a second after it expired, as ten minutes would:
 * its `exp` and its row's expires_at alike (the row outlives `exp` by what nixa keeps).
 */
async function expire(d: oidc.DeviceAuthorizationResponse): Promise<void> {
  const { rowCount } = await tdb.db.query(
    `UPDATE short_lived_payloads
     SET payload = jsonb_set(payload, '{exp}', to_jsonb(floor(extract(epoch FROM now()))::int - 1)),
         expires_at = expires_at - make_interval(secs => (payload->>'exp')::float8 - (floor(extract(epoch FROM now())) - 1))
     WHERE model = 'DeviceCode' AND id = $1`,
    [d.device_code],
  );
  expect(rowCount).toBe(1);
}

describe('device authorization grant (RFC 8628)', () => {
  it('gives a kiosk a short unambiguous user code, a verification link and the polling interval', async () => {
    expect(config.serverMetadata().device_authorization_endpoint).toBe(`${nixa.config.issuer}/device/auth`);
    expect(config.serverMetadata().grant_types_supported).toContain(DEVICE_CODE_GRANT);
    const d = await oidc.initiateDeviceAuthorization(config, { scope: 'openid profile' });
    expect(d.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(d.verification_uri).toBe(`${nixa.config.issuer}/device`);
    expect(d.verification_uri_complete).toBe(`${nixa.config.issuer}/device?user_code=${d.user_code}`);
    expect(d.expires_in).toBe(600);
    expect(d.interval).toBe(5);
  });

  it('signs the kiosk in after the citizen types the code on a phone, confirms and signs in, with the acr and amr reached', async () => {
    const d = await oidc.initiateDeviceAuthorization(config, { scope: 'openid profile' });
    // Pending while the citizen has done nothing; a second poll at once is told to slow down.
    expect(await poll(d.device_code)).toMatchObject({ status: 400, body: { error: 'authorization_pending' } });
    expect(await poll(d.device_code)).toMatchObject({ status: 400, body: { error: 'slow_down' } });

    const agent = phone();
    // Typed as a citizen would: lower case, a space instead of the dash.
    const typed = await typeCode(agent, d.user_code.toLowerCase().replace('-', ' '));
    const confirmHtml = await typed.res.text();
    expect(typed.res.status).toBe(200);
    expect(confirmHtml).toContain(KIOSK_NAME);
    expect(confirmHtml).toContain(`<code class="secret">${d.user_code}</code>`);
    expect(confirmHtml).toContain('Đây có phải thiết bị trước mặt bạn?');
    const signIn = await answerConfirmation(agent, confirmHtml, 'confirm');
    expect(new URL(signIn.url).pathname).toMatch(/^\/interaction\//);
    const done = await testLogin(agent, signIn, 'nguyen-van-an');
    expect(done.res.status).toBe(200);
    expect(new URL(done.url).pathname).toMatch(/^\/device\/[A-Za-z0-9_-]+$/);
    const html = await done.res.text();
    expect(html).toContain('Thiết bị đã được đăng nhập');
    expect(html).toContain('(The device is signed in)');
    expect(done.res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(withoutWebApp(html)).not.toMatch(/<script|<style|style=|onfocus=/);

    const tokens = await oidc.pollDeviceAuthorizationGrant(config, d);
    const { payload } = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${nixa.config.issuer}/jwks`)), {
      issuer: nixa.config.issuer,
      audience: kiosk.clientId,
    });
    expect(payload).toMatchObject({ sub: 'nguyen-van-an', acr: 'urn:nixa:test', amr: ['test'] });
    const approved = await auditEvents('DEVICE_GRANT_APPROVED');
    expect(approved).toEqual([
      expect.objectContaining({ actor: 'account:nguyen-van-an', subject: 'nguyen-van-an', details: expect.objectContaining({ client: kiosk.clientId, acr: 'urn:nixa:test', amr: ['test'] }) }),
    ]);
    // The user code is in no audit event.
    const all = await tdb.db.query<{ t: string }>('SELECT details::text AS t FROM audit_events');
    expect(all.rows.some((r) => r.t.includes(d.user_code.replace('-', '')) || r.t.includes(d.user_code))).toBe(false);
  }, 30_000);

  it('prefills the form from the verification link and renders it without any script of its own or inline style', async () => {
    const d = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    const res = await phone().request(d.verification_uri_complete!);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(field(html, 'user_code')).toBe(d.user_code);
    expect(field(html, 'xsrf')).toMatch(/.+/);
    expect(html).toContain('<html lang="vi"');
    expect(html).toContain('href="/assets/nixa.css"');
    expect(html).toContain('<footer class="site">');
    expect(withoutWebApp(html)).not.toMatch(/<script|<style|style=|onfocus=/);
    expect(res.headers.get('content-security-policy')).not.toContain('sha256-');
  });

  it('refuses a form posted without the browser’s own xsrf token', async () => {
    const d = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    const agent = phone();
    await agent.request(verification());
    const forged = await agent.submit(verification(), { xsrf: 'not-the-token', user_code: d.user_code });
    const html = await forged.res.text();
    expect(html).not.toContain('Đây có phải thiết bị trước mặt bạn?');
    expect(html).toContain('nixa chưa xử lý được yêu cầu');
    expect(await poll(d.device_code)).toMatchObject({ body: { error: 'authorization_pending' } });
  });

  it('says a wrong code is unknown, and keeps what was typed to correct it', async () => {
    const typed = await typeCode(phone(), 'bcdf-ghjz');
    const html = await typed.res.text();
    expect(typed.res.status).toBe(400);
    expect(html).toContain('Không có mã này.');
    expect(html).toContain('There is no such code.');
    expect(field(html, 'user_code')).toBe('bcdf-ghjz');
  });

  it('says an expired code has expired, and the kiosk polling it gets expired_token', async () => {
    const d = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    await expire(d);
    const typed = await typeCode(phone(), d.user_code);
    expect(typed.res.status).toBe(400);
    expect(await typed.res.text()).toContain('Mã này đã hết hạn.');
    expect(await poll(d.device_code)).toMatchObject({ status: 400, body: { error: 'expired_token' } });
  });

  it('takes a code once: after it was used, typing it again says so and signs nothing in', async () => {
    const d = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    const done = await approveOnPhone(phone(), d, 'tran-thi-binh');
    expect(done.html).toContain('Thiết bị đã được đăng nhập');
    await oidc.pollDeviceAuthorizationGrant(config, d);

    const again = await typeCode(phone(), d.user_code);
    expect(again.res.status).toBe(400);
    expect(await again.res.text()).toContain('Mã này đã được dùng.');
    // The device code itself is spent too: a second redemption is refused.
    expect(await poll(d.device_code)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  }, 30_000);

  it('refuses a code confirmed while another browser is signing in with it', async () => {
    const d = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    const first = phone();
    const confirmHtml = await (await typeCode(first, d.user_code)).res.text();
    await answerConfirmation(first, confirmHtml, 'confirm');
    const second = await typeCode(phone(), d.user_code);
    expect(await second.res.text()).toContain('Mã này đã được dùng.');
  });

  it('tells the kiosk access_denied when the citizen answers "not me" on the confirmation, and audits it', async () => {
    const d = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    const agent = phone();
    const confirmHtml = await (await typeCode(agent, d.user_code)).res.text();
    const refused = await answerConfirmation(agent, confirmHtml, 'abort');
    const html = await refused.res.text();
    expect(refused.res.status).toBe(200);
    expect(html).toContain('Đã từ chối');
    expect(html).toContain('The device will not be signed in with your account');
    await expect(oidc.pollDeviceAuthorizationGrant(config, d)).rejects.toMatchObject({ error: 'access_denied' });
    expect(await auditEvents('DEVICE_GRANT_DENIED')).toContainEqual(
      expect.objectContaining({ actor: 'anonymous', details: { client: kiosk.clientId, step: 'confirmation' } }),
    );
  }, 30_000);

  it('tells the kiosk access_denied when the citizen cancels the sign-in', async () => {
    const d = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    const agent = phone();
    const confirmHtml = await (await typeCode(agent, d.user_code)).res.text();
    const chooser = await answerConfirmation(agent, confirmHtml, 'confirm');
    const html = await chooser.res.text();
    const cancel = /action="(\/interaction\/[^"]+\/abort)"/.exec(html)![1]!;
    const cancelled = await agent.submit(new URL(cancel, chooser.url), { csrf: field(html, 'csrf')! });
    expect(new URL(cancelled.url).pathname).toMatch(/^\/device\//);
    expect(await cancelled.res.text()).toContain('Đã từ chối');
    expect(await poll(d.device_code)).toMatchObject({ status: 400, body: { error: 'access_denied' } });
    expect(await auditEvents('DEVICE_GRANT_DENIED')).toContainEqual(expect.objectContaining({ details: { client: kiosk.clientId, step: 'sign-in' } }));
  });

  it('refuses the device grant to a service not registered for it', async () => {
    const service = await registerTestClient(tdb.db);
    const serviceConfig = await discover(nixa.config.issuer, service);
    await expect(oidc.initiateDeviceAuthorization(serviceConfig, { scope: 'openid' })).rejects.toMatchObject({ error: 'unauthorized_client' });
  });

  it('limits unknown codes to ten per address in five minutes, parallel guesses included, with a plain page', async () => {
    const d = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    const address = `203.0.113.${++addresses}`;
    // A correct code is not counted against the address.
    expect((await typeCode(phone(address), d.user_code)).res.status).toBe(200);
    // Fifteen browsers behind one address, each with its own session and form token, all at once.
    const browsers = Array.from({ length: 15 }, () => phone(address));
    const tokens = await Promise.all(browsers.map(async (b) => field(await (await b.request(verification())).text(), 'xsrf')!));
    const guesses = await Promise.all(
      browsers.map((b, i) => b.submit(verification(), { xsrf: tokens[i]!, user_code: `BCDF-${'GHJKLMNPQRSTVWX'[i]}ZZZ` })),
    );
    const statuses = guesses.map((g) => g.res.status).sort();
    expect(statuses.filter((s) => s === 400)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    // Locked now: the right code waits too, on a plain page that says how long.
    const guesser = browsers[0]!;
    const xsrf = field(await (await guesser.request(verification())).text(), 'xsrf')!;
    const locked = await guesser.submit(verification(), { xsrf, user_code: d.user_code });
    const html = await locked.res.text();
    expect(locked.res.status).toBe(429);
    expect(Number(locked.res.headers.get('retry-after'))).toBeGreaterThan(240);
    expect(html).toContain('Đã nhập sai mã quá nhiều lần');
    expect(html).toMatch(/Hãy đợi 5 phút rồi thử lại/);
    // Another address is not held up.
    expect((await typeCode(phone(), d.user_code)).res.status).toBe(200);
    const limited = await auditEvents('DEVICE_CODE_GUESSES_LIMITED');
    expect(limited).toHaveLength(1);
    expect(limited[0]!.subject).toMatch(/^ip:[0-9a-f]{16}$/);
    expect(JSON.stringify(limited)).not.toContain('203.0.113.');
  });
});

describe('the device authorization endpoint under hostile input', () => {
  const endpoint = () => new URL('/device/auth', nixa.config.issuer);
  const form = (body: string, headers: Record<string, string> = {}) =>
    fetch(endpoint(), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
  const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });
  let confidential: TestClient;

  beforeAll(async () => {
    confidential = await registerTestClient(tdb.db, { grant_types: [DEVICE_CODE_GRANT], redirect_uris: [], post_logout_redirect_uris: [], scope: 'openid' });
    expect(confidential.secret).toBeDefined();
    // Registrations stored past the schema (an operator's SQL, an old row): oidc-provider cannot load them.
    const store = (id: string, metadata: unknown) =>
      tdb.db.query(`INSERT INTO clients (client_id, name, metadata) VALUES ($1, 'Ki-ốt hỏng — phường Đa Kao', $2::jsonb)`, [id, JSON.stringify(metadata)]);
    const device = { grant_types: [DEVICE_CODE_GRANT], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'none', scope: 'openid' };
    await store('kiosk-pairwise-no-jwks-uri', { ...device, client_id: 'kiosk-pairwise-no-jwks-uri', subject_type: 'pairwise' });
    await store('kiosk-unknown-grant', { ...device, client_id: 'kiosk-unknown-grant', grant_types: ['urn:ietf:params:oauth:grant-type:device'] });
    await store('kiosk-no-client-id', { ...device, subject_type: 'public' });
    await store('kiosk-not-an-object', 'ki-ốt');
    await store('kiosk-secret-lost', { ...device, client_id: 'kiosk-secret-lost', subject_type: 'public', token_endpoint_auth_method: 'client_secret_basic' });
  });

  it.each<[string, () => Promise<Response>, number, string]>([
    ['an unknown client_id', () => form('client_id=khong-ton-tai&scope=openid'), 401, 'invalid_client'],
    ['no client_id', () => form('scope=openid'), 400, 'invalid_request'],
    ['client_id twice', () => form(`client_id=${kiosk.clientId}&client_id=${kiosk.clientId}&scope=openid`), 400, 'invalid_request'],
    ['a body that is not a form', () => fetch(endpoint(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: kiosk.clientId }) }), 400, 'invalid_request'],
    ['a malformed form', () => form('%%%&&=='), 400, 'invalid_request'],
    ['a malformed Basic header', () => form('scope=openid', { authorization: 'Basic %%%' }), 400, 'invalid_request'],
    ['a NUL in client_id', () => form('client_id=a%00b&scope=openid'), 400, 'invalid_request'],
    ['a wrong secret', () => form('scope=openid', basic(confidential.clientId, 'sai-mat-khau')), 401, 'invalid_client'],
    ['a pairwise device client stored without jwks_uri', () => form('client_id=kiosk-pairwise-no-jwks-uri&scope=openid'), 401, 'invalid_client'],
    ['a client stored with a grant type nixa does not know', () => form('client_id=kiosk-unknown-grant&scope=openid'), 401, 'invalid_client'],
    ['a client stored without its client_id', () => form('client_id=kiosk-no-client-id&scope=openid'), 401, 'invalid_client'],
    ['a client stored as a string', () => form('client_id=kiosk-not-an-object&scope=openid'), 401, 'invalid_client'],
    ['a secret client stored without its secret', () => form('scope=openid', basic('kiosk-secret-lost', 'bat-ky')), 401, 'invalid_client'],
    ['an unknown client asking for a page', () => form('client_id=khong-ton-tai&scope=openid', { accept: 'text/html' }), 401, 'invalid_client'],
    ['a GET', () => fetch(endpoint()), 405, 'invalid_request'],
    ['a GET from a browser', () => fetch(endpoint(), { headers: { accept: 'text/html' } }), 405, 'invalid_request'],
    ['a PUT', () => fetch(endpoint(), { method: 'PUT', body: `client_id=${kiosk.clientId}` }), 405, 'invalid_request'],
  ])('answers %s with an OAuth error in JSON, never a page or a 500', async (_case, send, status, error) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { error: string; error_description?: string };
    expect(body.error).toBe(error);
    // What is wrong in a stored registration is the operator's to read in the logs, not the device's.
    expect(body.error_description ?? '').not.toMatch(/mandatory|jwks|metadata/);
  });

  it('answers a service not registered for the grant unauthorized_client, and a HEAD 405 without a body', async () => {
    const app = await registerTestClient(tdb.db, { application_type: 'native', token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1/callback'], post_logout_redirect_uris: [] });
    const refused = await form(`client_id=${app.clientId}&scope=openid`);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'unauthorized_client' });
    const head = await fetch(endpoint(), { method: 'HEAD' });
    expect(head.status).toBe(405);
    expect(head.headers.get('allow')).toBe('POST');
  });
});

describe('registering a service for the device grant', () => {
  const opts = { allowHttpLoopback: true };
  it('accepts the device grant without redirect URIs, with refresh tokens', () => {
    const c = parseClientInput({ name: 'Ki-ốt', grant_types: [DEVICE_CODE_GRANT, 'refresh_token'], token_endpoint_auth_method: 'none', subject_type: 'public' }, opts);
    expect(c.grant_types).toEqual([DEVICE_CODE_GRANT, 'refresh_token']);
  });

  it('refuses pairwise subjects for a device client without jwks_uri, naming subject_type (oidc-provider could not load it)', () => {
    const pairwise = () => parseClientInput({ name: 'Ki-ốt', grant_types: [DEVICE_CODE_GRANT], token_endpoint_auth_method: 'none' }, opts);
    expect(pairwise).toThrow(InvalidInputError);
    expect(pairwise).toThrow(/subject_type.*jwks_uri/);
    const both = () =>
      parseClientInput(
        { name: 'Cổng', grant_types: ['authorization_code', DEVICE_CODE_GRANT], redirect_uris: ['https://dvc.example.vn/cb'], token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://dvc.example.vn/jwks' },
        opts,
      );
    expect(both).toThrow(/sector_identifier_uri/);
  });

  it('names the field of a grant type nixa does not offer', () => {
    const bad = () => parseClientInput({ name: 'Ki-ốt', grant_types: ['urn:ietf:params:oauth:grant-type:device'], token_endpoint_auth_method: 'none', subject_type: 'public' }, opts);
    expect(bad).toThrow(InvalidInputError);
    expect(bad).toThrow(/grant_types\[0\].*urn:ietf:params:oauth:grant-type:device_code/);
  });
});

describe('a device page opened by hand', () => {
  it.each(['/device/xyz', '/device/khong-co-ma-nay', `/device/${'a'.repeat(43)}`])('GET %s without a sign-in in progress sends the browser to the code form, never a 500', async (path) => {
    const res = await fetch(new URL(path, nixa.config.issuer), { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get('location')!, nixa.config.issuer).pathname).toBe('/device');
    const form = await fetch(new URL(res.headers.get('location')!, nixa.config.issuer), { headers: { accept: 'text/html' } });
    expect(form.status).toBe(200);
  });
});
