// The demo public service as an OpenID Connect Back-Channel Logout 1.0 relying
// party: nixa posts a logout token to /backchannel-logout when the citizen's nixa
// session ends, and the demo's sessions from that nixa session end with it.
import { randomUUID } from 'node:crypto';

import { generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWTPayload } from 'jose';

import type { Nixa } from '../../src/app/index.js';
import { seedDemo, type DemoCredentials } from '../../src/app/demo.js';
import { showClient } from '../../src/clients/index.js';
import { startDemoService, type DemoService } from '../../src/demo-service/index.js';
import { activeSigningKey } from '../../src/keys/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort, startTestNixa } from '../support/nixa.js';
import { UserAgent } from '../support/user-agent.js';

let tdb: TestDatabase;
let nixa: Nixa;
let creds: DemoCredentials;
let demo: DemoService;

beforeAll(async () => {
  tdb = await createTestDatabase();
  nixa = await startTestNixa(tdb.db);
  const demoPort = await freePort();
  creds = await seedDemo(tdb.db, { ...nixa.config, port: demoPort - 100 }, silentLogger);
  demo = await startDemoService({ issuer: nixa.config.issuer, credentials: creds, port: demoPort, host: '127.0.0.1', logger: silentLogger });
});

afterAll(async () => {
  await demo?.close();
  await nixa?.close();
  await tdb?.drop();
});

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

function main(html: string): string {
  return /<main[^>]*>([\s\S]*)<\/main>/.exec(html)?.[1] ?? html;
}

/** Signs in through the demo; returns the agent and the nixa session id (sid) the demo keeps. */
async function signedIn(): Promise<{ agent: UserAgent; sid: string }> {
  const agent = new UserAgent();
  const step = await agent.follow(`${demo.url}/login`);
  const html = await step.res.text();
  const login = /action="(\/interaction\/[^"]+\/login)"/.exec(html)![1]!;
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  const done = await agent.submit(new URL(login, step.url), { account: 'nguyen-van-an', csrf });
  expect(main(await done.res.text())).toContain('Bạn đã đăng nhập');
  const cookie = agent.cookies.get(new URL(demo.url).host)!.get('demo_session')!;
  const sid = (JSON.parse(Buffer.from(cookie, 'base64url').toString('utf8')) as { sid?: string }).sid;
  expect(sid).toEqual(expect.any(String));
  return { agent, sid: sid! };
}

async function isSignedIn(agent: UserAgent): Promise<boolean> {
  const html = main(await (await agent.request(`${demo.url}/`)).text());
  if (html.includes('Bạn đã đăng nhập')) return true;
  expect(html).toContain('href="/login"');
  return false;
}

/** A logout token as nixa would sign it, with `change` applied to its claims (undefined deletes one). */
async function logoutToken(sid: string, change: Record<string, unknown> = {}, key?: { privateKey: CryptoKey; kid: string }): Promise<string> {
  const alg = nixa.config.keys.signingAlgs[0]!;
  const signing = key ?? (await (async () => {
    const k = await activeSigningKey(tdb.db, nixa.cipher, alg);
    return { privateKey: (await importJWK(k.privateJwk, alg)) as CryptoKey, kid: k.kid };
  })());
  const t = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { iss: nixa.config.issuer, aud: creds.clientId, iat: t, exp: t + 120, jti: randomUUID(), sid, events: { [EVENT]: {} }, ...change };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return new SignJWT(claims as JWTPayload).setProtectedHeader({ alg, kid: signing.kid, typ: 'logout+jwt' }).sign(signing.privateKey);
}

function post(token: string | undefined) {
  return fetch(`${demo.url}/backchannel-logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: token === undefined ? '' : new URLSearchParams({ logout_token: token }).toString(),
  });
}

describe('demo service back-channel logout', () => {
  it('is registered at nixa with a back-channel logout URI (session required)', async () => {
    const row = await tdb.db.query<{ metadata: Record<string, unknown> }>('SELECT metadata FROM clients WHERE client_id = $1', [creds.clientId]);
    expect(row.rows[0]!.metadata).toMatchObject({ backchannel_logout_uri: `${creds.origin}/backchannel-logout`, backchannel_logout_session_required: true });
    expect((await showClient(tdb.db, creds.clientId)).clientId).toBe(creds.clientId);
  });

  it('ends the session a valid logout token names, and only that one', async () => {
    const a = await signedIn();
    const b = await signedIn();
    expect(a.sid).not.toBe(b.sid);
    const res = await post(await logoutToken(a.sid));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await isSignedIn(a.agent)).toBe(false);
    expect(await isSignedIn(b.agent)).toBe(true);
    // The records page does not use the ended session's access token either: it starts a sign-in.
    const records = await a.agent.request(`${demo.url}/records`);
    expect(records.status).toBe(302);
    expect(records.headers.get('location')!.startsWith(nixa.config.issuer)).toBe(true);
  });

  it('is told by nixa itself when the citizen signs out at nixa', async () => {
    const { agent } = await signedIn();
    const end = await agent.follow(`${nixa.config.issuer}/session/end`);
    const html = await end.res.text();
    const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(html)![1]!;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
    await agent.submit(new URL(action, end.url), { xsrf, logout: 'yes' });
    expect(await isSignedIn(agent)).toBe(false);
  });

  const bad: [string, (sid: string) => Promise<string | undefined>][] = [
    ['no logout_token', async () => undefined],
    ['not a JWT', async () => 'not-a-jwt'],
    ['a forged signature', async (sid) => {
      const { privateKey } = await generateKeyPair(nixa.config.keys.signingAlgs[0]!);
      const k = await activeSigningKey(tdb.db, nixa.cipher, nixa.config.keys.signingAlgs[0]!);
      return logoutToken(sid, {}, { privateKey: privateKey as CryptoKey, kid: k.kid });
    }],
    ['another audience', (sid) => logoutToken(sid, { aud: 'another-service' })],
    ['another issuer', (sid) => logoutToken(sid, { iss: 'https://nixa.example' })],
    ['no events claim', (sid) => logoutToken(sid, { events: undefined })],
    ['another event', (sid) => logoutToken(sid, { events: { 'http://schemas.openid.net/event/other': {} } })],
    ['a nonce', (sid) => logoutToken(sid, { nonce: 'n-0S6_WzA2Mj' })],
    ['no sid', (sid) => logoutToken(sid, { sid: undefined })],
    ['an expired token', (sid) => logoutToken(sid, { iat: Math.floor(Date.now() / 1000) - 3600, exp: Math.floor(Date.now() / 1000) - 3000 })],
  ];
  it.each(bad)('refuses %s with 400 invalid_request, and the session survives', async (_name, make) => {
    const { agent, sid } = await signedIn();
    const res = await post(await make(sid));
    expect(res.status).toBe(400);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
    expect(await isSignedIn(agent)).toBe(true);
  });
});
