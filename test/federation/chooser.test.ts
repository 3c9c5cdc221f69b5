// The identity-source chooser over real HTTP: which sources a citizen is offered
// for the level a service asks, how unavailable ones are shown, idp_hint, and the
// refusals (csrf, a source that is not offered) that leave nothing behind.
import * as oidc from 'openid-client';

import { updateSource } from '../../src/sources/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, SIMULATED_SOURCE_IDS, startFederation, type Federation } from '../support/federation.js';
import { authorizationUrl, discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { UserAgent } from '../support/user-agent.js';

let tdb: TestDatabase;
let fed: Federation;
let service: TestClient;
let config: oidc.Configuration;

beforeAll(async () => {
  tdb = await createTestDatabase();
  // No scheduled health probe during these tests: they set health themselves.
  fed = await startFederation(tdb, { NIXA_SOURCE_HEALTH_SECONDS: '3600' });
  service = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công quốc gia' });
  config = await discover(fed.nixa.config.issuer, service);
});

afterAll(async () => {
  await fed?.close();
  await tdb?.drop();
});

const NAMES = {
  citizen_id: 'Cơ sở dữ liệu quốc gia về dân cư (mô phỏng)',
  telecom: 'Nhà mạng (mô phỏng)',
  bank: 'Ngân hàng (mô phỏng)',
} as const;
const { citizen_id: CITIZEN_ID, telecom: TELECOM, bank: BANK } = SIMULATED_SOURCE_IDS;

interface Page {
  agent: UserAgent;
  status: number;
  url: URL;
  html: string;
}

/** A citizen arriving from the service: the first page nixa (or a source) shows. */
async function arrive(extra: Record<string, string> = {}): Promise<Page> {
  const agent = new UserAgent();
  const step = await agent.follow(await authorizationUrl(config, service, extra), {}, service.redirectUri);
  if (step.stoppedAt) throw new Error(`went back to the service: ${step.stoppedAt}`);
  return { agent, status: step.res.status, url: new URL(step.url), html: await step.res.text() };
}

/** The chooser, checked to be one. */
async function chooser(extra: Record<string, string> = {}): Promise<Page & { uid: string; csrf: string }> {
  const page = await arrive(extra);
  expect(page.status).toBe(200);
  expect(page.url.origin).toBe(fed.nixa.config.issuer);
  expect(page.html).toContain('Chọn nguồn định danh');
  const uid = /^\/interaction\/([A-Za-z0-9_-]+)$/.exec(page.url.pathname)![1]!;
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.html)![1]!;
  return { ...page, uid, csrf };
}

/** The ids of the sources the citizen can choose (submit buttons). */
const offered = (html: string) => [...html.matchAll(/<button type="submit" name="source" value="([^"]+)"/g)].map((m) => m[1]);
/** The list of sources (the form), without the advice around it. */
const sourceList = (html: string) => /<form method="post" action="\/interaction\/[^"]+\/source" class="sources"[\s\S]*?<\/form>/.exec(html)![0];
/** The advice given when some sources cannot reach the level asked. */
const advice = (html: string) => /<section class="advice"[\s\S]*?<\/section>/.exec(html)?.[0];
/** The list items shown as unavailable. */
const unavailable = (html: string) => [...html.matchAll(/<li class="unavailable" aria-disabled="true">([\s\S]*?)<\/li>/g)].map((m) => m[1]!);

const choose = (page: { agent: UserAgent; uid: string }, fields: Record<string, string>) =>
  page.agent.submit(new URL(`/interaction/${page.uid}/source`, fed.nixa.config.issuer), fields, service.redirectUri);

const upstreamLogins = async () => (await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM upstream_logins')).rows[0]!.n;

/** Changes a source for one test and puts it back afterwards, whatever happens. */
async function withSource(id: string, patch: Record<string, unknown>, restore: Record<string, unknown>, fn: () => Promise<void>) {
  await updateSource(tdb.db, fed.nixa.cipher, id, patch, 'test', { allowHttpLoopback: true });
  await fed.nixa.sources.refresh();
  try {
    await fn();
  } finally {
    await updateSource(tdb.db, fed.nixa.cipher, id, restore, 'test', { allowHttpLoopback: true });
    await fed.nixa.sources.refresh();
  }
}

describe('which sources the chooser offers', () => {
  it('lists the three sources by their Vietnamese names, each as a choice, for a service that asks no level', async () => {
    const page = await chooser();
    expect(offered(page.html).sort()).toEqual([BANK, CITIZEN_ID, TELECOM].sort());
    for (const name of Object.values(NAMES)) expect(page.html).toContain(name);
    expect(page.html).toContain('Cổng dịch vụ công quốc gia');
    expect(page.html).not.toContain('Mức độ đảm bảo yêu cầu');
    expect(unavailable(page.html)).toEqual([]);
  });

  it('offers only the citizen-ID source when the service asks for the high level', async () => {
    const page = await chooser({ acr_values: 'urn:nixa:loa:high' });
    expect(offered(page.html)).toEqual([CITIZEN_ID]);
    expect(sourceList(page.html)).toContain(NAMES.citizen_id);
    expect(sourceList(page.html)).not.toContain(NAMES.telecom);
    expect(sourceList(page.html)).not.toContain(NAMES.bank);
    expect(page.html).toContain('Mức độ đảm bảo yêu cầu: cao.');
  });

  it('offers the citizen-ID source and the bank, not the telecom operator, for the substantial level', async () => {
    const page = await chooser({ acr_values: 'urn:nixa:loa:substantial' });
    expect(offered(page.html).sort()).toEqual([BANK, CITIZEN_ID].sort());
    expect(sourceList(page.html)).not.toContain(NAMES.telecom);
    expect(page.html).toContain('Mức độ đảm bảo yêu cầu: đáng kể.');
  });

  it('refuses a source posted for a level it cannot reach, and starts nothing upstream', async () => {
    const page = await chooser({ acr_values: 'urn:nixa:loa:high' });
    const before = await upstreamLogins();
    const res = await choose(page, { csrf: page.csrf, source: TELECOM });
    expect(res.res.status).toBe(400);
    expect(await res.res.text()).toContain('source: is not one of the sources offered for this sign-in');
    expect(await upstreamLogins()).toBe(before);
  });

  it('returns unmet_authentication_requirements to the service when no source can reach the level', async () => {
    await withSource(CITIZEN_ID, { enabled: false }, { enabled: true }, async () => {
      const agent = new UserAgent();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: service.redirectUri,
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
        state: 'can-cao',
        acr_values: 'urn:nixa:loa:high',
      });
      const back = new URL((await agent.follow(url, {}, service.redirectUri)).stoppedAt!);
      expect(back.searchParams.get('error')).toBe('unmet_authentication_requirements');
      expect(back.searchParams.get('state')).toBe('can-cao');
    });
    // Back to normal: the citizen-ID source is offered again, without any notice.
    const again = await chooser({ acr_values: 'urn:nixa:loa:high' });
    expect(offered(again.html)).toEqual([CITIZEN_ID]);
    expect(again.html).not.toContain('role="alert"');
  });
});

describe('sources that cannot be used now', () => {
  it('says so in plain words when the only source able to reach the level is in maintenance', async () => {
    await withSource(CITIZEN_ID, { maintenance: true }, { maintenance: false }, async () => {
      const page = await chooser({ acr_values: 'urn:nixa:loa:high' });
      expect(offered(page.html)).toEqual([]);
      expect(page.html).toContain('Hiện không có nguồn định danh nào sử dụng được.');
      expect(unavailable(page.html)).toHaveLength(1);
    });
  });

  it('shows a source in maintenance with its message, not as a choice, and refuses it when posted anyway', async () => {
    const message = { maintenance: true, maintenance_message_vi: 'Bảo trì đến 22:00', maintenance_message_en: 'Maintenance until 22:00' };
    await withSource(BANK, message, { maintenance: false, maintenance_message_vi: null, maintenance_message_en: null }, async () => {
      const page = await chooser();
      expect(offered(page.html).sort()).toEqual([CITIZEN_ID, TELECOM].sort());
      const shown = unavailable(page.html);
      expect(shown).toHaveLength(1);
      expect(shown[0]).toContain(NAMES.bank);
      expect(shown[0]).toContain('Bảo trì đến 22:00');
      expect(shown[0]).toContain('Maintenance until 22:00');

      const before = await upstreamLogins();
      const res = await choose(page, { csrf: page.csrf, source: BANK });
      expect(res.res.status).toBe(503);
      expect(res.url).toContain(fed.nixa.config.issuer);
      const html = await res.res.text();
      expect(html).toContain('NIXA-FED-source-maintenance');
      expect(html).toContain('đang bảo trì theo kế hoạch');
      expect(html).toContain('Chưa đăng nhập được');
      expect(html).toContain(`href="/interaction/${page.uid}"`);
      expect(await upstreamLogins()).toBe(before);
    });
    expect(offered((await chooser()).html)).toContain(BANK);
  });

  it('shows a source whose health check fails as temporarily unavailable, not as a choice', async () => {
    await fed.nixa.sources.recordHealth(TELECOM, false, 'discovery: ECONNREFUSED');
    try {
      const page = await chooser();
      expect(offered(page.html)).not.toContain(TELECOM);
      const shown = unavailable(page.html);
      expect(shown).toHaveLength(1);
      expect(shown[0]).toContain(NAMES.telecom);
      expect(shown[0]).toContain('Tạm thời không truy cập được');
      // The internal error is for operators, not citizens.
      expect(page.html).not.toContain('ECONNREFUSED');
    } finally {
      await fed.nixa.sources.recordHealth(TELECOM, true, null);
    }
    expect(offered((await chooser()).html)).toContain(TELECOM);
  });

  it('does not list a disabled source at all, and refuses it when posted anyway', async () => {
    await withSource(TELECOM, { enabled: false }, { enabled: true }, async () => {
      const page = await chooser();
      expect(offered(page.html).sort()).toEqual([BANK, CITIZEN_ID].sort());
      expect(page.html).not.toContain(NAMES.telecom);
      expect(unavailable(page.html)).toEqual([]);
      const before = await upstreamLogins();
      const res = await choose(page, { csrf: page.csrf, source: TELECOM });
      expect(res.res.status).toBe(400);
      expect(await res.res.text()).toContain('source: is not one of the sources offered');
      expect(await upstreamLogins()).toBe(before);
    });
    expect((await chooser()).html).toContain(NAMES.telecom);
  });
});

describe('idp_hint', () => {
  it('skips the chooser and goes straight to the bank’s own sign-in page for idp_hint=sim-bank', async () => {
    const before = await upstreamLogins();
    const page = await arrive({ idp_hint: BANK });
    expect(page.status).toBe(200);
    expect(page.url.origin).toBe(new URL(fed.sources.bank.issuer).origin);
    expect(page.html).toContain('name="citizen"');
    expect(page.html).toContain('Ngân hàng');
    expect(page.html).not.toContain('Chọn nguồn định danh');
    expect(await upstreamLogins()).toBe(before + 1);
    const { rows } = await tdb.db.query<{ source_id: string }>('SELECT source_id FROM upstream_logins ORDER BY created_at DESC LIMIT 1');
    expect(rows[0]!.source_id).toBe(BANK);
  });

  it('shows the chooser for an idp_hint naming an unknown source', async () => {
    const page = await chooser({ idp_hint: 'sim-khong-co' });
    expect(offered(page.html).sort()).toEqual([BANK, CITIZEN_ID, TELECOM].sort());
  });

  it('shows the chooser, with the source shown as unavailable, for an idp_hint naming a source in maintenance', async () => {
    await withSource(BANK, { maintenance: true }, { maintenance: false }, async () => {
      const before = await upstreamLogins();
      const page = await chooser({ idp_hint: BANK });
      expect(offered(page.html)).not.toContain(BANK);
      expect(unavailable(page.html).join('')).toContain(NAMES.bank);
      expect(unavailable(page.html).join('')).toContain('Đang bảo trì');
      expect(await upstreamLogins()).toBe(before);
    });
  });

  it('shows the chooser for an idp_hint naming a disabled source', async () => {
    await withSource(BANK, { enabled: false }, { enabled: true }, async () => {
      const page = await chooser({ idp_hint: BANK });
      expect(offered(page.html).sort()).toEqual([CITIZEN_ID, TELECOM].sort());
    });
  });

  it('shows the chooser for an idp_hint naming a source that cannot reach the level asked', async () => {
    const page = await chooser({ idp_hint: TELECOM, acr_values: 'urn:nixa:loa:high' });
    expect(offered(page.html)).toEqual([CITIZEN_ID]);
  });
});

describe('choosing a source without a valid csrf token', () => {
  it.each([
    ['no csrf token', () => ({})],
    ['a made-up csrf token', () => ({ csrf: 'gia-mao-khong-hop-le-gia-mao-khong-hop-le-1' })],
  ])('refuses a choice with %s with a 400 page naming csrf, storing no upstream login', async (_what, token) => {
    const page = await chooser();
    const before = await upstreamLogins();
    const res = await choose(page, { ...token(), source: CITIZEN_ID });
    expect(res.res.status).toBe(400);
    expect(res.url).toContain(fed.nixa.config.issuer);
    const html = await res.res.text();
    expect(html).toContain('csrf: the form expired or did not come from nixa');
    expect(html).toContain('NIXA-INP-001');
    expect(await upstreamLogins()).toBe(before);
  });

  it("refuses a choice carrying another sign-in's csrf token", async () => {
    const mine = await chooser();
    const other = await chooser();
    const before = await upstreamLogins();
    const res = await choose(mine, { csrf: other.csrf, source: CITIZEN_ID });
    expect(res.res.status).toBe(400);
    expect(await res.res.text()).toContain('csrf:');
    expect(await upstreamLogins()).toBe(before);
    // The right token on the same page still works: the refusal was the token's doing.
    const ok = await choose(mine, { csrf: mine.csrf, source: CITIZEN_ID });
    expect(ok.res.status).toBe(200);
    expect(new URL(ok.url).origin).toBe(new URL(fed.sources.citizen_id.issuer).origin);
    expect(await upstreamLogins()).toBe(before + 1);
  });
});

describe('helping a citizen choose', () => {
  const LOGO = /<button type="submit" name="source" value="([^"]+)"><img src="data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)" alt="" width="40" height="40">/g;

  it('shows each source with its logo, as an inline image the page’s CSP allows, and the level it vouches for', async () => {
    const page = await chooser();
    const logos = [...page.html.matchAll(LOGO)];
    expect(logos.map((m) => m[1]).sort()).toEqual([BANK, CITIZEN_ID, TELECOM].sort());
    for (const [, , b64] of logos) expect(Buffer.from(b64!, 'base64').toString()).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[\s\S]*<\/svg>$/);
    const csp = (await page.agent.request(page.url)).headers.get('content-security-policy')!;
    expect(csp).toMatch(/img-src 'self' data:/);
    expect(page.html).toMatch(/value="sim-citizen-id">[\s\S]*?Xác nhận đến mức «cao»[\s\S]*?<\/button>/);
    expect(page.html).toMatch(/value="sim-bank">[\s\S]*?Xác nhận đến mức «đáng kể»[\s\S]*?<\/button>/);
    expect(page.html).toMatch(/value="sim-telecom">[\s\S]*?Xác nhận đến mức «thấp» <span lang="en">\(Vouches up to “low”\)<\/span>[\s\S]*?<\/button>/);
  });

  it('shows a source without a logo by its name alone', async () => {
    await withSource(BANK, { logo: null }, { logo: fed.nixa.sources.get(BANK)!.logo }, async () => {
      const page = await chooser();
      expect([...page.html.matchAll(LOGO)].map((m) => m[1]).sort()).toEqual([CITIZEN_ID, TELECOM].sort());
      expect(page.html).toMatch(/value="sim-bank"><span>Ngân hàng \(mô phỏng\)/);
    });
  });

  it('says in one line which source to choose, and explains “nguồn định danh” and “mức độ đảm bảo”', async () => {
    const page = await chooser();
    expect(page.html).toContain('<p id="which-source" class="hint"><strong>Chọn nguồn nào?</strong>');
    expect(page.html).toContain('aria-describedby="which-source"');
    const terms = /<details class="terms">[\s\S]*?<\/details>/.exec(page.html)![0];
    expect(terms).toMatch(/<dt>Nguồn định danh <span lang="en">\(Identity source\)<\/span><\/dt>\s*<dd>Nơi đã xác minh bạn là ai/);
    expect(terms).toMatch(/<dt>Mức độ đảm bảo <span lang="en">\(Assurance level\)<\/span><\/dt>\s*<dd>Mức chắc chắn rằng người đăng nhập đúng là bạn: thấp, đáng kể hoặc cao/);
  });

  it('gives no advice about levels when the service asks none, nor when every source can reach the level', async () => {
    expect(advice((await chooser()).html)).toBeUndefined();
    expect(advice((await chooser({ acr_values: 'urn:nixa:loa:low' })).html)).toBeUndefined();
  });

  it('for the high level, says why the bank and the telecom are not listed, and that a level-2 e-ID account activated at the police is the way', async () => {
    const a = advice((await chooser({ acr_values: 'urn:nixa:loa:high' })).html)!;
    expect(a).toContain('Không thấy nguồn bạn thường dùng?');
    expect(a).toContain(`Dịch vụ này cần mức độ đảm bảo «cao». Chỉ «${NAMES.citizen_id}» xác nhận được mức này; «${NAMES.bank}», «${NAMES.telecom}» thì không`);
    expect(a).toContain('cơ quan công an nơi bạn cư trú để kích hoạt <strong>tài khoản định danh điện tử mức 2</strong>');
    expect(a).toContain(`Sau đó bạn đăng nhập được qua «${NAMES.citizen_id}», ở mức «cao»`);
    expect(a).toContain('<span lang="en">(No account there yet? Take your citizen identity card to the police');
  });

  it('for the substantial level, names the telecom alone as unable, and the bank and the citizen-ID source as able', async () => {
    const a = advice((await chooser({ acr_values: 'urn:nixa:loa:substantial' })).html)!;
    expect(a).toContain(`Chỉ «${NAMES.citizen_id}», «${NAMES.bank}» xác nhận được mức này; «${NAMES.telecom}» thì không`);
    expect(a).toContain('tài khoản định danh điện tử mức 2');
  });

  it('sends no citizen to the police when the citizen-ID source is off: it says to ask the service instead', async () => {
    await withSource(CITIZEN_ID, { maintenance: true }, { maintenance: false }, async () => {
      // In maintenance it is still listed (shown, not offered), and still the way.
      expect(advice((await chooser({ acr_values: 'urn:nixa:loa:substantial' })).html)).toContain('tài khoản định danh điện tử mức 2');
    });
    await withSource(CITIZEN_ID, { enabled: false }, { enabled: true }, async () => {
      const a = advice((await chooser({ acr_values: 'urn:nixa:loa:substantial' })).html)!;
      expect(a).toContain(`Chỉ «${NAMES.bank}» xác nhận được mức này; «${NAMES.telecom}» thì không`);
      expect(a).not.toContain('công an');
      expect(a).toContain('hãy liên hệ dịch vụ để hỏi cách khác');
    });
  });
});

describe('Bùi Thị Lan, known to the telecom only, asked for the high level', () => {
  it('is shown, on the step-up chooser, why only the citizen-ID source is listed and how to get an account there, with the terms explained', async () => {
    const low = await federatedSignIn(config, service.redirectUri, { source: 'telecom', citizen: 'bui-thi-lan', consent: 'accept' });
    await redeemFederated(config, low);
    // The same browser, now asked for high by the service: the step-up chooser.
    const high = await federatedSignIn(config, service.redirectUri, { agent: low.agent, extra: { acr_values: 'urn:nixa:loa:high' } });
    const html = high.page!.html;
    expect(html).toContain('cao hơn lần đăng nhập hiện tại của bạn');
    expect(offered(html)).toEqual([CITIZEN_ID]);
    const a = advice(html)!;
    expect(a).toContain(`Chỉ «${NAMES.citizen_id}» xác nhận được mức này; «${NAMES.bank}», «${NAMES.telecom}» thì không`);
    expect(a).toContain('tài khoản định danh điện tử mức 2');
    expect(html).toContain('<details class="terms">');
    expect(html).toContain('<dt>Mức độ đảm bảo <span lang="en">(Assurance level)</span></dt>');
  });
});
