// CIBA end to end (OpenID Connect Client-Initiated Backchannel Authentication
// 1.0), with openid-client as the service (a post office counter) over real
// HTTP: it names the citizen by national ID number or by the sub it knows, with
// a binding message; the citizen's bound phone sees the request when it opens
// nixa, shows the service and the message, and approval with the passkey gives
// the service tokens at the bound phone's level — in poll mode and in ping mode.
// Unknown hint, no bound phone, no binding message, denial, expiry and polling
// too fast each give the standard CIBA error.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as oidc from 'openid-client';

import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFederation, type Federation } from '../support/federation.js';
import { approveWithPasskey, boundPhone, form, openOnPhone, PHONE_PASSKEY_ENV, phoneSignedIn, type Phone, type PhoneWorld } from '../support/phone.js';
import { startPushService, type PushServiceHandle } from '../support/push-service.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { waitFor } from '../support/wait.js';

const CIBA = 'urn:openid:params:grant-type:ciba';
const DUC = '046069113502';
const DUNG = '031178052840';

interface Ping {
  auth: string | undefined;
  body: { auth_req_id?: string };
}

describe('CIBA: a counter asks, the citizen approves on their bound phone', () => {
  let tdb: TestDatabase;
  let fed: Federation;
  let world: PhoneWorld;
  let counter: TestClient;
  let counterConfig: oidc.Configuration;
  let pingConfig: oidc.Configuration;
  let pingServer: Server;
  const pings: Ping[] = [];
  const pingAttempts: number[] = [];
  let duc: Phone;
  let pushService: PushServiceHandle;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    pushService = await startPushService();
    fed = await startFederation(tdb, { ...PHONE_PASSKEY_ENV, NIXA_PUSH_INSECURE_ENDPOINTS: 'true' });
    const portal = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công' });
    world = { issuer: fed.nixa.config.issuer, config: await discover(fed.nixa.config.issuer, portal), redirectUri: portal.redirectUri };
    counter = await registerTestClient(tdb.db, {
      name: 'Bưu điện Hà Nội — quầy 3',
      grant_types: [CIBA],
      redirect_uris: [],
      post_logout_redirect_uris: [],
      backchannel_token_delivery_mode: 'poll',
      scope: 'openid profile',
    });
    counterConfig = await discover(world.issuer, counter);
    // A ping-mode service: nixa calls its notification endpoint when the citizen
    // answered. CIBA (and oidc-provider) require https there, so the service has a
    // certificate of its own, made here. nixa trusts the system's CAs and
    // NODE_EXTRA_CA_CERTS (read once at process start, so not settable from inside
    // this test): the ping is seen arriving as a TLS handshake nixa refuses to
    // complete, and a trusted ping is left to deployments (README).
    const dir = mkdtempSync(join(tmpdir(), 'nixa-ciba-ping-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const tls = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
    rmSync(dir, { recursive: true, force: true });
    pingServer = createServer(tls, (req, res) => {
      // Reached only with a trusted certificate.
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        pings.push({ auth: req.headers.authorization, body: JSON.parse(body || '{}') });
        res.writeHead(204).end();
      });
    });
    pingServer.on('connection', () => pingAttempts.push(Date.now()));
    await new Promise<void>((resolve) => pingServer.listen(0, '127.0.0.1', resolve));
    const ping = await registerTestClient(tdb.db, {
      name: 'Tổng đài 1022',
      grant_types: [CIBA],
      redirect_uris: [],
      post_logout_redirect_uris: [],
      backchannel_token_delivery_mode: 'ping',
      backchannel_client_notification_endpoint: `https://localhost:${(pingServer.address() as AddressInfo).port}/ciba`,
      scope: 'openid profile',
    });
    pingConfig = await discover(world.issuer, ping);
    duc = await boundPhone(world, 'citizen_id', 'hoang-minh-duc');
    // Đức's phone turned notifications on (views/phone-push.js does this in a browser).
    const origin = new URL(world.issuer).origin;
    const { publicKey } = (await (await duc.agent.request(new URL('/p/push/key', world.issuer), { headers: { accept: 'application/json' } })).json()) as { publicKey: string };
    const subscribed = await duc.agent.request(new URL('/p/push/subscription', world.issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', origin },
      body: JSON.stringify(pushService.subscribe(publicKey).json),
    });
    expect(subscribed.status).toBe(204);
  });
  afterAll(async () => {
    pingServer?.closeAllConnections();
    await new Promise((resolve) => pingServer?.close(resolve));
    await fed?.close();
    await pushService?.close();
    await tdb?.drop();
  });

  const events = async (event: string, extra = '') =>
    (await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE event = $1 ${extra}`, [event])).rows[0]!.n;

  /** The phone opens nixa: the pending request's link, then its page. */
  async function phoneOpensRequest(p: Phone, service: string) {
    const list = await openOnPhone(world, p, '/p');
    expect(list.status).toBe(200);
    expect(list.html).toContain('Yêu cầu đang chờ bạn xác nhận');
    const link = new RegExp(`<a href="(/p/[A-Z]{10})">${service}</a>`).exec(list.html)?.[1];
    expect(link).toBeDefined();
    const page = await openOnPhone(world, p, link!);
    return { link: link!, ...page };
  }

  const errorOf = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      return { error: (err as { error?: string }).error, description: (err as { error_description?: string }).error_description };
    }
    throw new Error('expected an error');
  };

  it('poll mode: named by national ID, approved on the phone with the passkey, the counter gets tokens at the phone’s level', async () => {
    const asked = await oidc.initiateBackchannelAuthentication(counterConfig, { scope: 'openid profile', login_hint: DUC, binding_message: 'Quầy 3 — mã 4821' });
    expect(asked.auth_req_id).toBeDefined();
    expect(asked.expires_in).toBeGreaterThan(0);
    // The phone is notified by Web Push (RFC 8291 encrypted, VAPID signed): an opaque id, nothing personal.
    await waitFor(() => pushService.received.length === 1, 5_000, 'the push to reach the push service');
    const pushed = JSON.parse(pushService.received[0]!.payload) as { type: string; id: string };
    expect(pushed.type).toBe('ciba');
    expect(pushed.id).not.toContain(DUC);
    expect(pushService.received[0]!.urgency).toBe('high');

    const opened = await phoneOpensRequest(duc, 'Bưu điện Hà Nội — quầy 3');
    expect(opened.status).toBe(200);
    expect(opened.html).toContain('Quầy 3 — mã 4821');
    expect(opened.html).toContain('Họ và tên');
    const approved = await approveWithPasskey(world, duc, opened.link, opened.csrf!);
    expect(approved.status).toBe(200);
    expect(approved.options?.userVerification).toBe('required');
    expect(approved.html).toContain('dịch vụ đã được báo');

    const tokens = await oidc.pollBackchannelAuthenticationGrant(counterConfig, asked);
    const claims = tokens.claims()!;
    expect(claims.acr).toBe('urn:nixa:loa:high');
    expect(claims.amr).toEqual(expect.arrayContaining(['hwk', 'user', 'mca', 'mfa']));
    expect(claims.name).toBe('Hoàng Minh Đức');
    expect(await events('CIBA_REQUESTED')).toBe(1);
    expect(await events('CROSS_DEVICE_APPROVED', `AND details->>'kind' = 'ciba'`)).toBe(1);
    // Answered: it is no longer listed, and its page says it was used.
    expect((await openOnPhone(world, duc, '/p')).html).not.toContain('Bưu điện Hà Nội — quầy 3</a>');
    expect((await openOnPhone(world, duc, opened.link)).status).toBe(409);
  }, 30_000);

  it('ping mode: named by the sub it knows; nixa calls the service’s https endpoint, and the service takes the tokens', async () => {
    const sub = (await tdb.db.query<{ account_id: string }>(`SELECT account_id FROM bound_phones LIMIT 1`)).rows[0]!.account_id;
    const asked = await oidc
      .initiateBackchannelAuthentication(pingConfig, { scope: 'openid', login_hint: sub, binding_message: 'Tổng đài: 77', client_notification_token: 'counter-token-123' })
      .catch((err: { error?: string; error_description?: string }) => {
        throw new Error(`${err.error}: ${err.error_description}`);
      });
    const opened = await phoneOpensRequest(duc, 'Tổng đài 1022');
    expect((await approveWithPasskey(world, duc, opened.link, opened.csrf!)).status).toBe(200);
    // nixa called the registered https endpoint and refused its untrusted certificate: no ping body was sent.
    expect(pingAttempts.length).toBeGreaterThan(0);
    expect(pings).toEqual([]);
    // The result was recorded before the ping: the service still gets its tokens with the auth_req_id.
    const tokens = await oidc.genericGrantRequest(pingConfig, CIBA, { auth_req_id: asked.auth_req_id });
    expect(tokens.claims()!.sub).toBe(sub);
  }, 30_000);

  it('access_denied when the citizen refuses on the phone (and a ping service is told too)', async () => {
    const asked = await oidc.initiateBackchannelAuthentication(counterConfig, { scope: 'openid', login_hint: DUC, binding_message: 'Quầy 5' });
    const opened = await phoneOpensRequest(duc, 'Bưu điện Hà Nội — quầy 3');
    const denied = await duc.agent.request(new URL(`${opened.link}/deny`, world.issuer), form({ csrf: opened.csrf! }));
    expect(await denied.text()).toContain('Bạn đã từ chối');
    expect(await errorOf(oidc.genericGrantRequest(counterConfig, CIBA, { auth_req_id: asked.auth_req_id }))).toMatchObject({ error: 'access_denied' });
    expect(await events('CROSS_DEVICE_DENIED', `AND details->>'kind' = 'ciba'`)).toBe(1);
  });

  it('authorization_pending while the phone has not answered, then slow_down when polled too fast', async () => {
    const asked = await oidc.initiateBackchannelAuthentication(counterConfig, { scope: 'openid', login_hint: DUC, binding_message: 'Quầy 6' });
    expect(await errorOf(oidc.genericGrantRequest(counterConfig, CIBA, { auth_req_id: asked.auth_req_id }))).toMatchObject({ error: 'authorization_pending' });
    expect(await errorOf(oidc.genericGrantRequest(counterConfig, CIBA, { auth_req_id: asked.auth_req_id }))).toMatchObject({ error: 'slow_down' });
  });

  it('expired_token once the request outlived requested_expiry, and the phone no longer lists it', async () => {
    const asked = await oidc.initiateBackchannelAuthentication(counterConfig, { scope: 'openid', login_hint: DUC, binding_message: 'Quầy 7', requested_expiry: '1' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await errorOf(oidc.genericGrantRequest(counterConfig, CIBA, { auth_req_id: asked.auth_req_id }))).toMatchObject({ error: 'expired_token' });
    const handle = (await tdb.db.query<{ h: string }>(`SELECT details->>'handle' AS h FROM cross_device_requests WHERE details->>'bindingMessage' = 'Quầy 7'`)).rows[0]!.h;
    expect((await openOnPhone(world, duc, '/p')).html).not.toContain(`/p/${handle}`);
    expect((await openOnPhone(world, duc, `/p/${handle}`)).status).toBe(410);
  });

  it.each<[string, Record<string, string>, string]>([
    ['an unknown national ID', { login_hint: '001099999999', binding_message: 'Quầy 3' }, 'unknown_user_id'],
    ['an unknown sub', { login_hint: 'no-such-account', binding_message: 'Quầy 3' }, 'unknown_user_id'],
    ['a hint that is neither', { login_hint: 'Hoàng Minh Đức', binding_message: 'Quầy 3' }, 'invalid_request'],
    ['no binding message', { login_hint: DUC }, 'invalid_binding_message'],
    ['a binding message with a control character', { login_hint: DUC, binding_message: 'Quầy\u202e3' }, 'invalid_binding_message'],
    ['a binding message too long for a phone screen', { login_hint: DUC, binding_message: 'x'.repeat(41) }, 'invalid_binding_message'],
    ['a user code (nixa has none)', { login_hint: DUC, binding_message: 'Quầy 3', user_code: '1234' }, 'invalid_user_code'],
  ])('refuses %s with %s', async (_, params, error) => {
    expect(await errorOf(oidc.initiateBackchannelAuthentication(counterConfig, { scope: 'openid', ...params }))).toMatchObject({ error });
  });

  it('refuses a citizen with no bound phone with access_denied, saying why', async () => {
    await phoneSignedIn(world, 'bank', 'pham-thi-dung');
    const refused = await errorOf(oidc.initiateBackchannelAuthentication(counterConfig, { scope: 'openid', login_hint: DUNG, binding_message: 'Quầy 3' }));
    expect(refused).toMatchObject({ error: 'access_denied', description: expect.stringMatching(/no phone bound/) });
  });

  it('does not show a citizen’s request to a phone of another account', async () => {
    const other = await boundPhone(world, 'bank', 'le-hoang-cuong');
    await oidc.initiateBackchannelAuthentication(counterConfig, { scope: 'openid', login_hint: DUC, binding_message: 'Quầy 8' });
    const list = await openOnPhone(world, other, '/p');
    expect(list.html).not.toContain('Yêu cầu đang chờ');
    const handle = (await tdb.db.query<{ h: string }>(`SELECT details->>'handle' AS h FROM cross_device_requests WHERE details->>'bindingMessage' = 'Quầy 8'`)).rows[0]!.h;
    expect((await openOnPhone(world, other, `/p/${handle}`)).status).toBe(404);
    // Still there for its citizen.
    expect((await phoneOpensRequest(duc, 'Bưu điện Hà Nội — quầy 3')).status).toBe(200);
  });
});
