// The simulated identity sources (src/simulated-sources): real OpenID providers
// driven over real HTTP by a real relying party (openid-client v6) and a
// cookie-keeping browser, in normal operation and in every misbehaviour.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, exportJWK, generateKeyPair, jwtVerify, type JWTPayload } from 'jose';
import * as oidc from 'openid-client';

import { checkNationalId } from '../../src/accounts/index.js';
import {
  BANK_RECORD_OVERRIDES,
  childrenOf,
  citizensKnownTo,
  FAMILIES,
  ONLY_AT_TELECOM,
  SOURCE_PROFILES,
  sourceClaims,
  startSimulatedSource,
  TEST_CITIZENS,
  type SimulatedSource,
  type SourceKind,
} from '../../src/simulated-sources/index.js';
import { isLoopback } from '../../src/simulated-sources/misbehaviour.js';
import { freePort } from '../support/nixa.js';
import { UserAgent } from '../support/user-agent.js';

const KINDS: SourceKind[] = ['citizen_id', 'telecom', 'bank'];
const REDIRECT_URI = 'http://localhost:9310/callback';
const POST_LOGOUT_URI = 'http://localhost:9310/';
const CLIENT_ID = 'nixa-test';
const CLIENT_SECRET = 'a-long-enough-test-secret-for-the-simulated-source';

const started: SimulatedSource[] = [];
afterAll(async () => {
  await Promise.all(started.map((s) => s.close()));
});

async function startSource(kind: SourceKind, extra: Partial<Parameters<typeof startSimulatedSource>[0]> = {}): Promise<SimulatedSource> {
  const source = await startSimulatedSource({
    kind,
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [REDIRECT_URI],
        post_logout_redirect_uris: [POST_LOGOUT_URI],
      },
    ],
    ...extra,
  });
  started.push(source);
  return source;
}

function discover(source: SimulatedSource): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(source.issuer), CLIENT_ID, undefined, oidc.ClientSecretBasic(CLIENT_SECRET), {
    execute: [oidc.allowInsecureRequests],
  });
}

interface Flow {
  agent: UserAgent;
  verifier: string;
  state: string;
  nonce: string;
}

/** From the authorization endpoint to the picker page (or straight to the redirect URI). */
async function authorize(config: oidc.Configuration, kind: SourceKind, agent = new UserAgent(), extra: Record<string, string> = {}) {
  const flow: Flow = { agent, verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: `openid ${SOURCE_PROFILES[kind].scope}`,
    code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
    code_challenge_method: 'S256',
    state: flow.state,
    nonce: flow.nonce,
    ...extra,
  });
  const step = await agent.follow(url, {}, REDIRECT_URI);
  return { flow, step };
}

/** A whole sign-in: the picker, then the chosen citizen; stops at the redirect URI. */
async function signIn(config: oidc.Configuration, kind: SourceKind, citizen: string, agent?: UserAgent) {
  const { flow, step } = await authorize(config, kind, agent);
  if (step.stoppedAt) return { flow, callback: new URL(step.stoppedAt) };
  const html = await step.res.text();
  const pick = /action="(\/interaction\/[^"]+\/pick)"/.exec(html)?.[1];
  if (!pick) throw new Error(`expected the picker page, got ${step.res.status}: ${html.slice(0, 300)}`);
  const done = await flow.agent.submit(new URL(pick, step.url), { citizen }, REDIRECT_URI);
  if (!done.stoppedAt) throw new Error(`the pick did not reach the redirect URI (${done.res.status} at ${done.url})`);
  return { flow, callback: new URL(done.stoppedAt) };
}

function redeem(config: oidc.Configuration, flow: Flow, callback: URL) {
  return oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce });
}

function verifyIdToken(source: SimulatedSource, idToken: string): Promise<JWTPayload> {
  const jwks = createRemoteJWKSet(new URL(`${source.issuer}/jwks`));
  return jwtVerify(idToken, jwks, { issuer: source.issuer, audience: CLIENT_ID }).then((r) => r.payload);
}

describe('seeded test citizens', () => {
  const provinces: Record<string, string> = { '001': 'Hà Nội', '031': 'Hải Phòng', '046': 'Thừa Thiên Huế', '048': 'Đà Nẵng', '079': 'Hồ Chí Minh', '092': 'Cần Thơ' };

  it('have CCCD numbers whose province, century-gender and year digits match the person', () => {
    expect(TEST_CITIZENS.length).toBeGreaterThanOrEqual(6);
    expect(TEST_CITIZENS.length).toBeLessThanOrEqual(8);
    for (const c of TEST_CITIZENS) {
      expect(c.nationalId).toMatch(/^\d{12}$/);
      expect(provinces[c.nationalId.slice(0, 3)]).toBeDefined();
      const year = Number(c.birthdate.slice(0, 4));
      const centuryGender = (year >= 2000 ? 2 : 0) + (c.gender === 'female' ? 1 : 0);
      expect(`${c.key}: ${c.nationalId[3]}`).toBe(`${c.key}: ${centuryGender}`);
      expect(c.nationalId.slice(4, 6)).toBe(c.birthdate.slice(2, 4));
      expect(new Date(`${c.birthdate}T00:00:00Z`).toISOString().slice(0, 10)).toBe(c.birthdate);
      expect(c.phoneNumber).toMatch(/^\+84[398]\d{8}$/);
    }
    expect(new Set(TEST_CITIZENS.map((c) => c.nationalId)).size).toBe(TEST_CITIZENS.length);
    expect(new Set(TEST_CITIZENS.map((c) => c.key)).size).toBe(TEST_CITIZENS.length);
  });

  it('have Vietnamese names with diacritics', () => {
    expect(TEST_CITIZENS.map((c) => c.fullName)).toEqual(expect.arrayContaining(['Nguyễn Văn An', 'Trần Thị Bình', 'Lê Hoàng Cường', 'Phạm Thị Dung']));
    for (const c of TEST_CITIZENS) expect(c.fullName.normalize('NFD')).not.toBe(c.fullName.normalize('NFC'));
  });

  it('include one person only the telecom knows, and one whose bank birthdate differs', () => {
    const [onlyTelecom] = [...ONLY_AT_TELECOM];
    expect(citizensKnownTo('telecom').map((c) => c.key)).toContain(onlyTelecom);
    expect(citizensKnownTo('citizen_id').map((c) => c.key)).not.toContain(onlyTelecom);
    expect(citizensKnownTo('bank').map((c) => c.key)).not.toContain(onlyTelecom);
    expect(sourceClaims('citizen_id', onlyTelecom!)).toBeUndefined();

    const [conflicted, override] = Object.entries(BANK_RECORD_OVERRIDES)[0]!;
    const fromCitizenId = sourceClaims('citizen_id', conflicted)!;
    const fromBank = sourceClaims('bank', conflicted)!;
    expect(fromBank.birthdate).toBe(override.birthdate);
    expect(fromBank.birthdate).not.toBe(fromCitizenId.ngay_sinh);
    expect(fromBank.id_number).toBe(fromCitizenId.so_dinh_danh);
  });
});

describe('families of the test citizens', () => {
  const AT = new Date('2026-12-01T00:00:00Z');
  const ageAt = (birthdate: string) => {
    const [y, m, d] = birthdate.split('-').map(Number) as [number, number, number];
    return AT.getUTCFullYear() - y - (AT.getUTCMonth() + 1 < m || (AT.getUTCMonth() + 1 === m && AT.getUTCDate() < d) ? 1 : 0);
  };

  it('give some parents minor children whose CCCD numbers fit their birthdate and gender, and who are not test citizens', () => {
    const children = Object.values(FAMILIES).flat();
    expect(children.length).toBeGreaterThanOrEqual(3);
    for (const k of children) {
      expect(`${k.fullName}: ${JSON.stringify(checkNationalId(k.nationalId, { birthdate: k.birthdate, gender: k.gender }, AT))}`).toMatch(/"ok":true/);
      expect(ageAt(k.birthdate)).toBeLessThan(18);
      expect(k.fullName.normalize('NFD')).not.toBe(k.fullName.normalize('NFC'));
    }
    const numbers = new Set([...TEST_CITIZENS.map((c) => c.nationalId), ...children.map((k) => k.nationalId)]);
    expect(numbers.size).toBe(TEST_CITIZENS.length + children.length);
    for (const parent of Object.keys(FAMILIES)) expect(TEST_CITIZENS.map((c) => c.key)).toContain(parent);
  });

  it('include a child under 14 and one of 14 or over for Nguyễn Văn An, and a child under 14 for Phạm Thị Dung', () => {
    const an = childrenOf('nguyen-van-an');
    expect(an.map((k) => [k.fullName, ageAt(k.birthdate) < 14])).toEqual([
      ['Nguyễn Minh Khôi', true],
      ['Nguyễn Thu Trang', false],
    ]);
    expect(childrenOf('pham-thi-dung').map((k) => ageAt(k.birthdate) < 14)).toEqual([true]);
    expect(childrenOf('le-hoang-cuong')).toEqual([]);
  });

  it('the citizen-ID source states them in con_chua_thanh_nien, with the person’s own claim names, in the ID token and at userinfo', async () => {
    const source = await startSource('citizen_id');
    const config = await discover(source);
    expect(config.serverMetadata().claims_supported).toContain('con_chua_thanh_nien');
    const { flow, callback } = await signIn(config, 'citizen_id', 'nguyen-van-an');
    const tokens = await redeem(config, flow, callback);
    const payload = await verifyIdToken(source, tokens.id_token!);
    const expected = [
      { so_dinh_danh: '001216073942', ho_va_ten: 'Nguyễn Minh Khôi', ngay_sinh: '2016-05-20', gioi_tinh: 'nam' },
      { so_dinh_danh: '001311058126', ho_va_ten: 'Nguyễn Thu Trang', ngay_sinh: '2011-08-09', gioi_tinh: 'nu' },
    ];
    expect(payload.con_chua_thanh_nien).toEqual(expected);
    for (const k of expected) expect(checkNationalId(k.so_dinh_danh, { birthdate: k.ngay_sinh, gender: k.gioi_tinh === 'nam' ? 'male' : 'female' }).ok).toBe(true);
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, payload.sub!);
    expect(userinfo.con_chua_thanh_nien).toEqual(expected);

    // A person without minor children: the source says so (an empty list), it does not stay silent.
    const other = await signIn(config, 'citizen_id', 'le-hoang-cuong', new UserAgent());
    const cuong = await verifyIdToken(source, (await redeem(config, other.flow, other.callback)).id_token!);
    expect(cuong.con_chua_thanh_nien).toEqual([]);
  });
});

describe.each(KINDS)('the %s source', (kind) => {
  let source: SimulatedSource;
  let config: oidc.Configuration;
  const profile = SOURCE_PROFILES[kind];
  const citizen = citizensKnownTo(kind)[0]!;

  beforeAll(async () => {
    source = await startSource(kind);
    config = await discover(source);
  });

  it('publishes its scope, claims and acr in discovery under its own issuer', () => {
    const meta = config.serverMetadata();
    expect(meta.issuer).toBe(source.issuer);
    expect(source.issuer).toMatch(/^http:\/\/localhost:\d+$/);
    expect(meta.scopes_supported).toEqual(expect.arrayContaining(['openid', profile.scope]));
    expect(meta.claims_supported).toEqual(expect.arrayContaining(profile.claimNames as string[]));
    expect(meta.acr_values_supported).toEqual([profile.acr]);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.response_types_supported).toEqual(['code']);
    expect(meta.end_session_endpoint).toBe(`${source.issuer}/session/end`);
  });

  it('signs a picked citizen in: the ID token and userinfo carry the source’s claims, acr and amr', async () => {
    const { flow, callback } = await signIn(config, kind, citizen.key);
    const tokens = await redeem(config, flow, callback);
    const payload = await verifyIdToken(source, tokens.id_token!);
    const expected = sourceClaims(kind, citizen.key)!;

    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('RS256');
    expect(payload).toMatchObject({ ...expected, nonce: flow.nonce, acr: profile.acr, amr: [...profile.amr] });
    expect(payload.sub).toMatch(new RegExp(`^${profile.subjectPrefix}`));
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, payload.sub!);
    expect(userinfo).toEqual({ sub: payload.sub, ...expected });
  });

  it('shows a bilingual picker of exactly the citizens it knows, under a strict CSP', async () => {
    const { step } = await authorize(config, kind);
    expect(step.res.status).toBe(200);
    const csp = step.res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    // No form-action: Chrome would apply it to the redirects on through nixa to the service.
    expect(csp).not.toContain('form-action');
    const html = await step.res.text();
    expect(html).toContain('<html lang="vi">');
    expect(html).toContain(`${profile.name.vi} <span lang="en">(${profile.name.en})</span>`);
    expect(html).toContain('Từ chối <span lang="en">(Refuse)</span>');
    expect(html).not.toMatch(/<script|\sstyle=|(src|href)="https?:/i);
    const radios = [...html.matchAll(/<input type="radio" id="([^"]+)" name="citizen" value="([^"]+)"/g)];
    expect(radios.map((r) => r[2])).toEqual(citizensKnownTo(kind).map((c) => c.key));
    for (const [, id] of radios) expect(html).toContain(`<label for="${id}">`);
    expect(html).toContain('<legend>');
    const css = await fetch(`${source.url}/assets/source.css`);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });
});

describe('protocol rules a standard OP enforces', () => {
  let source: SimulatedSource;
  let config: oidc.Configuration;

  beforeAll(async () => {
    source = await startSource('citizen_id');
    config = await discover(source);
  });

  it('refuses an authorization request without PKCE', async () => {
    const url = new URL(`${source.issuer}/auth`);
    url.search = new URLSearchParams({ client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'openid cccd', state: 'xyz' }).toString();
    const res = await fetch(url, { redirect: 'manual' });
    const back = new URL(res.headers.get('location')!);
    expect(back.origin + back.pathname).toBe(REDIRECT_URI);
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(back.searchParams.get('state')).toBe('xyz');
  });

  it('refuses a code redeemed with the wrong PKCE verifier', async () => {
    const { flow, callback } = await signIn(config, 'citizen_id', 'nguyen-van-an');
    await expect(redeem(config, { ...flow, verifier: oidc.randomPKCECodeVerifier() }, callback)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a code redeemed twice and revokes the access token the first redemption issued', async () => {
    const { flow, callback } = await signIn(config, 'citizen_id', 'dang-thi-ngoc-ha');
    const first = await redeem(config, flow, callback);
    await expect(redeem(config, flow, callback)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.fetchUserInfo(config, first.access_token, oidc.skipSubjectCheck)).rejects.toBeDefined();
  });

  it('never redirects to an unregistered redirect URI', async () => {
    const url = new URL(`${source.issuer}/auth`);
    url.search = new URLSearchParams({ client_id: CLIENT_ID, redirect_uri: 'http://localhost:9310/other', response_type: 'code', scope: 'openid' }).toString();
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('<span lang="en">');
  });

  it('keeps a session: a second sign-in in the same browser skips the picker, prompt=login shows it again', async () => {
    const agent = new UserAgent();
    const first = await signIn(config, 'citizen_id', 'tran-thi-binh', agent);
    await redeem(config, first.flow, first.callback);
    const sso = await authorize(config, 'citizen_id', agent);
    expect(sso.step.stoppedAt).toBeDefined();
    const claims = (await redeem(config, sso.flow, new URL(sso.step.stoppedAt!))).claims()!;
    expect(claims.ho_va_ten).toBe('Trần Thị Bình');
    const again = await authorize(config, 'citizen_id', agent, { prompt: 'login' });
    expect(again.step.stoppedAt).toBeUndefined();
    expect(await again.step.res.text()).toContain('name="citizen"');
  });

  it('asks before ending the session on RP-initiated logout without an ID token, and returns to the registered post-logout URI', async () => {
    const agent = new UserAgent();
    const { flow, callback } = await signIn(config, 'citizen_id', 'nguyen-van-an', agent);
    await redeem(config, flow, callback);
    const logoutUrl = oidc.buildEndSessionUrl(config, { post_logout_redirect_uri: POST_LOGOUT_URI, state: 'bye' });
    const confirm = await agent.follow(logoutUrl, {}, POST_LOGOUT_URI);
    const html = await confirm.res.text();
    expect(html).toContain('<html lang="vi">');
    expect(html).toContain('Đăng xuất khỏi nguồn này?');
    const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(html)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    expect(action && xsrf).toBeTruthy();
    const done = await agent.submit(new URL(action!, confirm.url), { xsrf: xsrf!, logout: 'yes' }, POST_LOGOUT_URI);
    expect(done.stoppedAt).toBe(`${POST_LOGOUT_URI}?state=bye`);
    // The session is gone: the picker shows again without prompt=login.
    const next = await authorize(config, 'citizen_id', agent);
    expect(next.step.stoppedAt).toBeUndefined();
  });

  it('ends the session at once on a POST with a valid id_token_hint (RP-Initiated Logout §2), without asking again', async () => {
    const agent = new UserAgent();
    const { flow, callback } = await signIn(config, 'citizen_id', 'nguyen-van-an', agent);
    const tokens = await redeem(config, flow, callback);
    const endSession = config.serverMetadata().end_session_endpoint!;
    const done = await agent.submit(endSession, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT_URI, state: 'bye' }, POST_LOGOUT_URI);
    expect(done.stoppedAt).toBe(`${POST_LOGOUT_URI}?state=bye`);
    const next = await authorize(config, 'citizen_id', agent);
    expect(next.step.stoppedAt).toBeUndefined();
    expect(await next.step.res.text()).toContain('name="citizen"');
    // Another citizen's ID token ends nothing: the source asks this browser's citizen itself.
    const other = await signIn(config, 'citizen_id', 'tran-thi-binh');
    const foreign = (await redeem(config, other.flow, other.callback)).id_token!;
    const mine = await signIn(config, 'citizen_id', 'nguyen-van-an', agent);
    await redeem(config, mine.flow, mine.callback);
    const asked = await agent.submit(endSession, { id_token_hint: foreign, post_logout_redirect_uri: POST_LOGOUT_URI, state: 'bye' }, POST_LOGOUT_URI);
    expect(asked.stoppedAt).toBeUndefined();
    expect(await asked.res.text()).toContain('Đăng xuất khỏi nguồn này?');
  });

  it('refuses a picker post from another origin', async () => {
    const { flow, step } = await authorize(config, 'citizen_id');
    const pick = /action="(\/interaction\/[^"]+\/pick)"/.exec(await step.res.text())![1]!;
    const res = await flow.agent.request(new URL(pick, step.url), {
      method: 'POST',
      body: 'citizen=nguyen-van-an',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' },
    });
    expect(res.status).toBe(403);
  });

  it('refuses a picker post without the interaction cookie', async () => {
    const { step } = await authorize(config, 'citizen_id');
    const pick = /action="(\/interaction\/[^"]+\/pick)"/.exec(await step.res.text())![1]!;
    const res = await new UserAgent().submit(new URL(pick, step.url), { citizen: 'nguyen-van-an' });
    expect(res.res.status).toBe(400);
    expect(await res.res.text()).toContain('<html lang="vi">');
  });

  it('refuses a citizen the source does not know', async () => {
    const { flow, step } = await authorize(config, 'citizen_id');
    const pick = /action="(\/interaction\/[^"]+\/pick)"/.exec(await step.res.text())![1]!;
    const res = await flow.agent.submit(new URL(pick, step.url), { citizen: [...ONLY_AT_TELECOM][0]! });
    expect(res.res.status).toBe(400);
  });

  it('returns access_denied when the citizen presses Từ chối (Refuse)', async () => {
    const { flow, step } = await authorize(config, 'citizen_id');
    const refuse = /action="(\/interaction\/[^"]+\/refuse)"/.exec(await step.res.text())![1]!;
    const done = await flow.agent.submit(new URL(refuse, step.url), {}, REDIRECT_URI);
    const back = new URL(done.stoppedAt!);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe(flow.state);
  });
});

describe('authenticating the relying party with private_key_jwt and a jwks_uri on loopback', () => {
  let jwksServer: Server;

  afterAll(async () => {
    await new Promise((resolve) => jwksServer?.close(resolve));
  });

  it('accepts a client assertion signed by a key the client publishes', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'nixa-federation-1', alg: 'ES256', use: 'sig' };
    jwksServer = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;

    const source = await startSimulatedSource({
      kind: 'bank',
      clients: [{ client_id: 'nixa-pkjwt', jwks_uri: jwksUri, token_endpoint_auth_method: 'private_key_jwt', redirect_uris: [REDIRECT_URI] }],
    });
    started.push(source);
    const config = await oidc.discovery(new URL(source.issuer), 'nixa-pkjwt', undefined, oidc.PrivateKeyJwt({ key: privateKey, kid: jwk.kid }), {
      execute: [oidc.allowInsecureRequests],
    });
    const { flow, callback } = await signIn(config, 'bank', 'pham-thi-dung');
    const tokens = await redeem(config, flow, callback);
    expect(tokens.claims()).toMatchObject({ name: 'Phạm Thị Dung', ekyc_verified: true });
  });
});

describe('misbehaviours', () => {
  let source: SimulatedSource;
  let config: oidc.Configuration;

  beforeAll(async () => {
    source = await startSource('citizen_id');
    config = await discover(source);
  });
  afterEach(() => source.misbehave({ mode: 'normal' }));

  it('deny: the sign-in comes back with error=access_denied, even for a browser already signed in', async () => {
    const agent = new UserAgent();
    await signIn(config, 'citizen_id', 'nguyen-van-an', agent);
    source.misbehave({ mode: 'deny' });
    for (const a of [agent, new UserAgent()]) {
      const { flow, step } = await authorize(config, 'citizen_id', a);
      const back = new URL(step.stoppedAt!);
      expect(back.searchParams.get('error')).toBe('access_denied');
      expect(back.searchParams.get('state')).toBe(flow.state);
      expect(back.searchParams.get('iss')).toBe(source.issuer);
    }
  });

  it('wrong-key: the ID token carries the published kid but does not verify against the published JWKS', async () => {
    source.misbehave({ mode: 'wrong-key' });
    const { flow, callback } = await signIn(config, 'citizen_id', 'le-hoang-cuong');
    const tokens = await redeem(config, flow, callback);
    const published = (await (await fetch(`${source.issuer}/jwks`)).json()) as { keys: { kid: string }[] };
    expect(published.keys.map((k) => k.kid)).toContain(decodeProtectedHeader(tokens.id_token!).kid);
    await expect(verifyIdToken(source, tokens.id_token!)).rejects.toBeInstanceOf(joseErrors.JWSSignatureVerificationFailed);

    source.misbehave({ mode: 'normal' });
    const ok = await signIn(config, 'citizen_id', 'le-hoang-cuong');
    await expect(verifyIdToken(source, (await redeem(config, ok.flow, ok.callback)).id_token!)).resolves.toMatchObject({ ho_va_ten: 'Lê Hoàng Cường' });
  });

  it('drop-claim: the claim is absent from both the ID token and userinfo, the others remain', async () => {
    source.misbehave({ mode: 'drop-claim', claim: 'so_dinh_danh' });
    const { flow, callback } = await signIn(config, 'citizen_id', 'pham-thi-dung');
    const tokens = await redeem(config, flow, callback);
    const payload = await verifyIdToken(source, tokens.id_token!);
    expect(payload).not.toHaveProperty('so_dinh_danh');
    expect(payload.ho_va_ten).toBe('Phạm Thị Dung');
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, payload.sub!);
    expect(userinfo).not.toHaveProperty('so_dinh_danh');
    expect(userinfo.ngay_sinh).toBe('1978-01-30');
  });

  it('drop-claim acr: the ID token states no assurance level', async () => {
    source.misbehave({ mode: 'drop-claim', claim: 'acr' });
    const { flow, callback } = await signIn(config, 'citizen_id', 'hoang-minh-duc');
    const payload = await verifyIdToken(source, (await redeem(config, flow, callback)).id_token!);
    expect(payload).not.toHaveProperty('acr');
    expect(payload.amr).toEqual(['pwd', 'otp']);
  });

  it('acr: the ID token states the acr it is told to, whatever acr_values asked; the request is kept for tests', async () => {
    source.misbehave({ mode: 'acr', acr: 'urn:vn:dancu:loa:substantial' });
    const { flow, step } = await authorize(config, 'citizen_id', new UserAgent(), { acr_values: 'urn:vn:dancu:loa:high' });
    expect(source.authorizationRequests().at(-1)!.get('acr_values')).toBe('urn:vn:dancu:loa:high');
    const pick = /action="(\/interaction\/[^"]+\/pick)"/.exec(await step.res.text())![1]!;
    const done = await flow.agent.submit(new URL(pick, step.url), { citizen: 'nguyen-van-an' }, REDIRECT_URI);
    const payload = await verifyIdToken(source, (await redeem(config, flow, new URL(done.stoppedAt!))).id_token!);
    expect(payload.acr).toBe('urn:vn:dancu:loa:substantial');
  });

  it('stale-auth-time: the ID token says the citizen signed in that long ago, even when prompt=login and max_age asked for a fresh sign-in', async () => {
    source.misbehave({ mode: 'stale-auth-time', seconds: 3600 });
    const { flow, step } = await authorize(config, 'citizen_id', new UserAgent(), { prompt: 'login', max_age: '60' });
    const pick = /action="(\/interaction\/[^"]+\/pick)"/.exec(await step.res.text())![1]!;
    const done = await flow.agent.submit(new URL(pick, step.url), { citizen: 'nguyen-van-an' }, REDIRECT_URI);
    const payload = await verifyIdToken(source, (await redeem(config, flow, new URL(done.stoppedAt!))).id_token!);
    expect(Math.floor(Date.now() / 1000) - (payload.auth_time as number)).toBeGreaterThanOrEqual(3599);
    expect(Math.floor(Date.now() / 1000) - (payload.auth_time as number)).toBeLessThan(3620);
    expect(() => source.misbehave({ mode: 'stale-auth-time', seconds: 0 })).toThrow(/seconds/);
  });

  it('drop-claim refuses sub and claims the source does not have', () => {
    expect(() => source.misbehave({ mode: 'drop-claim', claim: 'sub' })).toThrow(/claim/);
    expect(() => source.misbehave({ mode: 'drop-claim', claim: 'phone_number' })).toThrow(/so_dinh_danh/);
  });

  it('delay: a request is answered no sooner than the delay', async () => {
    source.misbehave({ mode: 'delay', ms: 300 });
    const t0 = performance.now();
    const res = await fetch(`${source.issuer}/.well-known/openid-configuration`);
    const elapsed = performance.now() - t0;
    expect(res.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(300);
  });

  it('down: every request answers 503, discovery included', async () => {
    source.misbehave({ mode: 'down' });
    for (const path of ['/.well-known/openid-configuration', '/jwks', '/auth', '/assets/source.css']) {
      expect(`${path} ${(await fetch(`${source.issuer}${path}`)).status}`).toBe(`${path} 503`);
    }
    await expect(discover(source)).rejects.toBeDefined();
  });

  it('can be set over HTTP from loopback, with a JSON body, also while down', async () => {
    const post = (body: unknown, type = 'application/json') =>
      fetch(`${source.url}/__sim/misbehave`, { method: 'POST', headers: { 'content-type': type }, body: JSON.stringify(body) });
    expect((await post({ mode: 'down' })).status).toBe(200);
    expect((await fetch(`${source.issuer}/.well-known/openid-configuration`)).status).toBe(503);
    const back = await post({ mode: 'normal' });
    expect(await back.json()).toEqual({ mode: 'normal' });
    expect((await fetch(`${source.issuer}/.well-known/openid-configuration`)).status).toBe(200);

    const bad = await post({ mode: 'delay', ms: -1 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^ms:/);
    expect((await post({ mode: 'deny' }, 'text/plain')).status).toBe(415);
    expect(await (await fetch(`${source.url}/__sim/misbehave`)).json()).toEqual({ mode: 'normal' });
  });

  it('accepts control requests only from loopback addresses', () => {
    expect(['127.0.0.1', '::1', '::ffff:127.0.0.1', '127.1.2.3'].every(isLoopback)).toBe(true);
    expect(['10.0.0.5', '::ffff:192.168.1.4', 'fe80::1', undefined].some(isLoopback)).toBe(false);
  });
});

describe('starting and closing', () => {
  it('refuses to start with an invalid client registration, and releases the port', async () => {
    const port = await freePort();
    await expect(
      startSimulatedSource({
        kind: 'citizen_id',
        port,
        clients: [{ client_id: 'no-keys', token_endpoint_auth_method: 'private_key_jwt', redirect_uris: [REDIRECT_URI] }],
      }),
    ).rejects.toThrow(/jwks/);
    const again = await startSimulatedSource({ kind: 'citizen_id', port, clients: [] });
    expect(again.issuer).toBe(`http://localhost:${port}`);
    await again.close();
  });

  it('stops listening', async () => {
    const source = await startSimulatedSource({ kind: 'telecom', clients: [] });
    expect((await fetch(`${source.url}/.well-known/openid-configuration`)).status).toBe(200);
    await source.close();
    await expect(fetch(`${source.url}/.well-known/openid-configuration`)).rejects.toThrow();
  });
});
