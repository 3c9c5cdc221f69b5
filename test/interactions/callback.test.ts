// The source's callback completes the sign-in named by the browser's in-flight
// cookie in one request; another browser's state is refused unspent; a browser
// without the cookie takes the hop through /interaction/<uid>/upstream as before.
// The browsers here keep cookies by path, as real ones do.
import type * as oidc from 'openid-client';

import { IN_FLIGHT_COOKIE_PREFIX, inFlightCookieName } from '../../src/interactions/in-flight.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, SIMULATED_SOURCE_IDS, startFederation, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';

let tdb: TestDatabase;
let fed: Federation;
let service: TestClient;
let config: oidc.Configuration;
let issuer: string;

beforeAll(async () => {
  tdb = await createTestDatabase();
  fed = await startFederation(tdb);
  issuer = fed.nixa.config.issuer;
  service = await registerTestClient(tdb.db, { scope: 'openid profile', subject_type: 'pairwise' });
  config = await discover(issuer, service);
});

afterEach(() => {
  for (const s of Object.values(fed.sources)) s.misbehave({ mode: 'normal' });
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

/** A browser that logs every request (method, URL) and every cookie nixa sets; optionally one that refuses the in-flight cookie. */
function browser(o: { blockInFlight?: boolean } = {}) {
  const requests: string[] = [];
  const setCookies: string[] = [];
  const agent = new UserAgent(
    async (url, init) => {
      requests.push(`${init.method ?? 'GET'} ${url.href}`);
      const res = await fetch(url, { ...init, redirect: 'manual' });
      if (url.origin === new URL(issuer).origin) setCookies.push(...res.headers.getSetCookie());
      if (!o.blockInFlight) return res;
      const headers = new Headers();
      for (const [k, v] of res.headers) if (k !== 'set-cookie') headers.append(k, v);
      for (const c of res.headers.getSetCookie()) if (!c.startsWith(IN_FLIGHT_COOKIE_PREFIX)) headers.append('set-cookie', c);
      return new Response(res.body, { status: res.status, headers });
    },
    { paths: true },
  );
  return { agent, requests, setCookies };
}

const nixaUrl = (path: string) => new URL(path, issuer);
const hops = (requests: string[]) => requests.filter((r) => /\/interaction\/[^/]+\/upstream(\?|$)/.test(r));
const uidOf = (requests: string[]) => /\/interaction\/([^/]+)\/source$/.exec(requests.find((r) => /\/interaction\/[^/]+\/source$/.test(r))!)![1]!;
/** The sign-ins oidc-provider resumed right after a callback, in order. */
const resumedAfterCallback = (requests: string[]) =>
  requests.flatMap((r, i) => (r.startsWith(`GET ${issuer}/federation/callback?`) ? [new RegExp(`^GET ${issuer}/auth/([^/?]+)$`).exec(requests[i + 1] ?? '')?.[1]] : []));
/** The in-flight cookies a request to the callback carries (their names). */
const inFlightAt = (agent: UserAgent) => agent.cookiesFor(nixaUrl('/federation/callback')).map(([k]) => k).filter((k) => k.startsWith(IN_FLIGHT_COOKIE_PREFIX));
const field = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];

/** The citizen picks who they are at the source's picker; stops at nixa's callback (returned, not followed). */
async function pickAtSource(agent: UserAgent, picker: { url: string; html: string }, citizen: string): Promise<URL> {
  const pick = /action="(\/interaction\/[^"]+\/pick)"/.exec(picker.html)![1]!;
  const back = await agent.submit(new URL(pick, picker.url), { citizen }, `${issuer}/federation/callback`);
  expect(back.stoppedAt).toBeDefined();
  return new URL(back.stoppedAt!);
}

/** Accepts nixa's consent page and returns where the browser is sent (the service's redirect URI, with a code). */
async function accept(agent: UserAgent, page: { url: string; html: string }): Promise<string> {
  const uid = new URL(page.url).pathname.split('/')[2]!;
  const done = await agent.submit(nixaUrl(`/interaction/${uid}/consent`), { csrf: field(page.html, 'csrf')!, decision: 'accept', shown: field(page.html, 'shown') ?? '' }, service.redirectUri);
  expect(done.stoppedAt).toBeDefined();
  return done.stoppedAt!;
}

async function audit(event: string) {
  return (await tdb.db.query<{ actor: string; details: Record<string, unknown> }>('SELECT actor, details FROM audit_events WHERE event = $1 ORDER BY seq', [event])).rows;
}

async function unspent(state: string): Promise<boolean> {
  return (await tdb.db.query('SELECT 1 FROM upstream_logins WHERE state = $1 AND consumed_at IS NULL', [state])).rows.length === 1;
}

describe('the source callback', () => {
  it('completes the sign-in at once: no hop to /interaction/<uid>/upstream, one request fewer than a browser without the cookie', async () => {
    const direct = browser();
    const s = await federatedSignIn(config, service.redirectUri, { agent: direct.agent, source: 'citizen_id', citizen: 'tran-thi-binh', consent: 'accept' });
    expect(s.stoppedAt).toBeDefined();
    expect((await redeemFederated(config, s)).claims()!.amr).toContain('fed');
    expect(hops(direct.requests)).toEqual([]);
    // From the callback straight to oidc-provider's resume.
    const at = direct.requests.findIndex((r) => r.startsWith(`GET ${issuer}/federation/callback?`));
    expect(direct.requests[at + 1]).toMatch(new RegExp(`^GET ${issuer}/auth/${uidOf(direct.requests)}$`));

    // The cookie: nixa's own, signed, HttpOnly, SameSite=Lax, sent only to the callback; gone once the login is complete.
    const name = inFlightCookieName(uidOf(direct.requests));
    const set = direct.setCookies.filter((c) => c.startsWith(`${name}=`) || c.startsWith(`${name}.sig=`));
    expect(set[0]).toMatch(new RegExp(`^${name}=1;`));
    expect(set.some((c) => c.startsWith(`${name}.sig=`))).toBe(true);
    for (const c of set) {
      expect(c).toMatch(/; path=\/federation\/callback(;|$)/);
      expect(c).toMatch(/; httponly(;|$)/);
      expect(c).toMatch(/; samesite=lax(;|$)/);
    }
    // Sent to the callback only, and gone once the upstream login is complete.
    expect(direct.agent.cookiesFor(nixaUrl(`/interaction/${uidOf(direct.requests)}`)).map(([k]) => k)).not.toContain(name);
    expect(inFlightAt(direct.agent)).toEqual([]);

    // The same journey in a browser that refuses the cookie: the hop, and one request more.
    const blocked = browser({ blockInFlight: true });
    const b = await federatedSignIn(config, service.redirectUri, { agent: blocked.agent, source: 'citizen_id', citizen: 'hoang-minh-duc', consent: 'accept' });
    expect(b.stoppedAt).toBeDefined();
    expect((await redeemFederated(config, b)).claims()!.amr).toContain('fed');
    expect(hops(blocked.requests)).toHaveLength(1);
    expect(blocked.requests.length - direct.requests.length).toBe(1);
  });

  it('takes the hop when the cookie is gone by the time the source answers (a login begun before the upgrade), and the sign-in still completes', async () => {
    const { agent, requests } = browser();
    const s = await federatedSignIn(config, service.redirectUri, { agent, source: 'citizen_id' });
    expect(s.page!.html).toContain('name="citizen"');
    expect(inFlightAt(agent)).toHaveLength(2);
    for (const name of inFlightAt(agent)) agent.dropCookie(nixaUrl('/federation/callback'), name);
    const callback = await pickAtSource(agent, s.page!, 'le-hoang-cuong');
    const page = await agent.follow(callback, {}, service.redirectUri);
    const html = await page.res.text();
    expect(html).not.toContain('NIXA-FED-');
    expect(html).toContain('name="decision"');
    expect(hops(requests)).toEqual([`GET ${issuer}/interaction/${uidOf(requests)}/upstream${callback.search}`]);
    const code = await accept(agent, { url: page.url, html });
    expect(new URL(code).searchParams.get('code')).toBeTruthy();
  });

  it("refuses another browser's state in the sign-in the cookie names, without spending it, and audits it; the citizen's own callback then succeeds", async () => {
    const a = browser();
    const sa = await federatedSignIn(config, service.redirectUri, { agent: a.agent, source: 'citizen_id' });
    const callbackA = await pickAtSource(a.agent, sa.page!, 'dang-thi-ngoc-ha');
    const stateA = callbackA.searchParams.get('state')!;

    // Browser B, which learnt A's callback URL, has an upstream login of its own in flight.
    const b = browser();
    const sb = await federatedSignIn(config, service.redirectUri, { agent: b.agent, source: 'telecom' });
    expect(sb.page!.html).toContain('name="citizen"');
    const uidB = uidOf(b.requests);
    const foreignBefore = (await audit('UPSTREAM_STATE_FOREIGN')).length;
    const replaysBefore = (await audit('UPSTREAM_REPLAY')).length;

    const attempt = await b.agent.follow(callbackA);
    expect(attempt.res.status).toBe(400);
    const html = await attempt.res.text();
    expect(html).toContain('NIXA-FED-state-mismatch');
    expect(html).toContain('không khớp với lượt đăng nhập này');
    expect(html).toContain(`href="/interaction/${uidB}">Chọn nguồn định danh khác`);
    expect(hops(b.requests)).toEqual([]);
    expect(await unspent(stateA)).toBe(true);
    const foreign = (await audit('UPSTREAM_STATE_FOREIGN')).slice(foreignBefore);
    expect(foreign).toEqual([{ actor: `interaction:${uidB}`, details: { source: SIMULATED_SOURCE_IDS.citizen_id, owner_interaction: uidOf(a.requests) } }]);
    expect((await audit('UPSTREAM_REPLAY')).length).toBe(replaysBefore);

    // A's own callback works, in one request.
    const done = await a.agent.follow(callbackA, {}, service.redirectUri);
    const page = await done.res.text();
    expect(page).not.toContain('NIXA-FED-');
    expect(page).toContain('name="decision"');
    expect(hops(a.requests)).toEqual([]);

    // And B's own sign-in was not disturbed by the refusal.
    const callbackB = await pickAtSource(b.agent, sb.page!, 'bui-thi-lan');
    const own = await b.agent.follow(callbackB, {}, service.redirectUri);
    expect(await own.res.text()).toContain('name="decision"');
  });

  it('ignores a cookie whose value was changed to name another sign-in (its signature no longer matches): the hop refuses the state, unspent', async () => {
    const a = browser();
    const sa = await federatedSignIn(config, service.redirectUri, { agent: a.agent, source: 'citizen_id' });
    const callbackA = await pickAtSource(a.agent, sa.page!, 'nguyen-van-an');
    const b = browser();
    await federatedSignIn(config, service.redirectUri, { agent: b.agent, source: 'citizen_id' });
    // B renames its own cookie to name A's sign-in, keeping the signature.
    const own = new Map(b.agent.cookiesFor(nixaUrl('/federation/callback')));
    const ownName = inFlightCookieName(uidOf(b.requests));
    for (const [n] of own) if (n.startsWith(IN_FLIGHT_COOKIE_PREFIX)) b.agent.dropCookie(nixaUrl('/federation/callback'), n);
    b.agent.setCookie(nixaUrl('/federation/callback'), inFlightCookieName(uidOf(a.requests)), '1', '/federation/callback');
    b.agent.setCookie(nixaUrl('/federation/callback'), `${inFlightCookieName(uidOf(a.requests))}.sig`, own.get(`${ownName}.sig`)!, '/federation/callback');
    const attempt = await b.agent.follow(callbackA);
    expect(attempt.res.status).toBe(400);
    expect(await attempt.res.text()).toContain('NIXA-FED-state-mismatch');
    expect(hops(b.requests)).toHaveLength(1);
    expect(await unspent(callbackA.searchParams.get('state')!)).toBe(true);
  });

  it('refuses a replayed callback while the cookie still names the sign-in, and records it as a security event', async () => {
    fed.sources.citizen_id.misbehave({ mode: 'deny' });
    const { agent, requests } = browser();
    const s = await federatedSignIn(config, service.redirectUri, { agent, source: 'citizen_id', citizen: 'pham-thi-dung' });
    expect(s.page!.html).toContain('NIXA-FED-denied');
    expect(s.page!.url).toMatch(new RegExp(`^${issuer}/federation/callback\\?`));
    const replaysBefore = (await audit('UPSTREAM_REPLAY')).length;
    // The failed login leaves the sign-in in the cookie (the citizen may choose another source).
    expect(inFlightAt(agent)).toEqual([inFlightCookieName(uidOf(requests)), `${inFlightCookieName(uidOf(requests))}.sig`]);
    const replay = await agent.follow(s.page!.url);
    expect(replay.res.status).toBe(400);
    const html = await replay.res.text();
    expect(html).toContain('NIXA-FED-replayed');
    expect(html).toContain('đã được dùng trước đó');
    expect(hops(requests)).toEqual([]);
    const replays = (await audit('UPSTREAM_REPLAY')).slice(replaysBefore);
    expect(replays).toEqual([{ actor: `source:${SIMULATED_SOURCE_IDS.citizen_id}`, details: { interaction: uidOf(requests) } }]);
  });

  it('completes two sign-ins in flight at once in one browser (two tabs), the later one answered first', async () => {
    const { agent, requests } = browser();
    const tab1 = await federatedSignIn(config, service.redirectUri, { agent, source: 'citizen_id' });
    const uid1 = uidOf(requests);
    const tab2 = await federatedSignIn(config, service.redirectUri, { agent, source: 'citizen_id' });
    const uid2 = uidOf(requests.filter((r) => !r.includes(uid1)));
    expect(uid2).not.toBe(uid1);
    expect(inFlightAt(agent).filter((n) => !n.endsWith('.sig'))).toEqual([inFlightCookieName(uid1), inFlightCookieName(uid2)]);

    // The second tab comes back first, then the first.
    const page2 = await agent.follow(await pickAtSource(agent, tab2.page!, 'dang-thi-ngoc-ha'), {}, service.redirectUri);
    const html2 = await page2.res.text();
    expect(html2).not.toContain('NIXA-FED-');
    expect(html2).toContain('name="decision"');
    expect(resumedAfterCallback(requests)).toEqual([uid2]);
    const page1 = await agent.follow(await pickAtSource(agent, tab1.page!, 'dang-thi-ngoc-ha'), {}, service.redirectUri);
    const html1 = await page1.res.text();
    expect(html1).not.toContain('NIXA-FED-');
    expect(html1).toContain('name="decision"');
    expect(resumedAfterCallback(requests)).toEqual([uid2, uid1]);
    expect(hops(requests)).toEqual([]);

    // Each service redeems its code as it comes back.
    const first = await redeemFederated(config, { ...tab1, stoppedAt: await accept(agent, { url: page1.url, html: html1 }) });
    const second = await redeemFederated(config, { ...tab2, stoppedAt: await accept(agent, { url: page2.url, html: html2 }) });
    expect(first.claims()!.sub).toBe(second.claims()!.sub);
    expect(inFlightAt(agent)).toEqual([]);
  });

  it('sends the language switch on a failure page at the callback to the same refusal, never to the callback again', async () => {
    fed.sources.citizen_id.misbehave({ mode: 'deny' });
    const { agent, requests } = browser();
    const s = await federatedSignIn(config, service.redirectUri, { agent, source: 'citizen_id', citizen: 'nguyen-van-an' });
    expect(s.page!.html).toContain('NIXA-FED-denied');
    const link = /<a class="language" href="([^"]+)"/.exec(s.page!.html)![1]!.replaceAll('&amp;', '&');
    const back = new URL(link, issuer).searchParams.get('back')!;
    expect(back).toMatch(/^\/error\/NIXA-FED-denied\?/);
    const after = await agent.follow(new URL(link, issuer));
    expect(new URL(after.url).pathname).toBe('/error/NIXA-FED-denied');
    expect(requests.filter((r) => r.startsWith(`GET ${issuer}/federation/callback`))).toHaveLength(1);
    expect(after.res.status).toBe(400);
    const html = await after.res.text();
    expect(html).toContain('<html lang="vi">');
    expect(html).toContain('NIXA-FED-denied');
    expect(html).not.toContain('NIXA-FED-state-mismatch');
    expect(html).toContain(`href="/interaction/${uidOf(requests)}">Chọn nguồn định danh khác`);
  });
});
