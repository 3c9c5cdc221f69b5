// Prometheus metrics over real HTTP: after a federated sign-in, a refused one and a
// token exchange, /metrics shows the counters; it is refused to anyone without the
// configured token, and in production without a token at all.
import Koa from 'koa';
import request from 'supertest';
import type * as oidc from 'openid-client';

import { createMetrics, metricsEndpoint } from '../../src/metrics/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated, startFederation, type Federation } from '../support/federation.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';

const TOKEN = 'prometheus-scraper-token-0123456789';

describe('/metrics', () => {
  let tdb: TestDatabase;
  let fed: Federation;
  let portal: TestClient;
  let config: oidc.Configuration;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    fed = await startFederation(tdb, { NIXA_METRICS_TOKEN: TOKEN });
    portal = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công' });
    config = await discover(fed.nixa.config.issuer, portal);
  });
  afterAll(async () => {
    await fed?.close();
    await tdb?.drop();
  });

  const scrape = (auth?: string) => fetch(new URL('/metrics', fed.nixa.config.issuer), auth ? { headers: { authorization: auth } } : {});
  /** The value of a series, written like `name{a="1",b="2"}`; the order of labels does not matter. */
  const value = (text: string, series: string) => {
    const parse = (s: string) => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?$/.exec(s);
      return m ? `${m[1]}|${(m[2] ?? '').split(',').sort().join(',')}` : s;
    };
    const wanted = parse(series);
    const line = text.split('\n').find((l) => !l.startsWith('#') && l.includes(' ') && parse(l.slice(0, l.lastIndexOf(' '))) === wanted);
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };

  it('counts sign-ins by source and level, refusals by reason, tokens by grant type, and upstream latency', async () => {
    const signIn = await federatedSignIn(config, portal.redirectUri, { source: 'citizen_id', citizen: 'nguyen-van-an', consent: 'accept' });
    await redeemFederated(config, signIn);
    fed.sources.bank.misbehave({ mode: 'deny' });
    try {
      const denied = await federatedSignIn(config, portal.redirectUri, { source: 'bank', citizen: 'nguyen-van-an' });
      expect(denied.stoppedAt).toBeUndefined();
    } finally {
      fed.sources.bank.misbehave({ mode: 'normal' });
    }

    const res = await scrape(`Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(value(text, 'nixa_sign_ins_total{source="sim-citizen-id",level="high",service="nixa"}')).toBe(1);
    expect(value(text, 'nixa_tokens_issued_total{grant_type="authorization_code",service="nixa"}')).toBe(1);
    expect(value(text, 'nixa_upstream_seconds_count{source="sim-citizen-id",outcome="ok",service="nixa"}')).toBe(1);
    const failures = text.split('\n').filter((l) => l.startsWith('nixa_sign_in_failures_total{'));
    expect(failures).toEqual([expect.stringMatching(/^nixa_sign_in_failures_total\{reason="[a-z-]+",service="nixa"\} 1$/)]);
    expect(value(text, 'nixa_active_sessions{service="nixa"}')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'nixa_audit_chain_length{service="nixa"}')).toBeGreaterThanOrEqual(2);
    expect(text).toContain('nixa_process_resident_memory_bytes');
    // Nothing personal: no name, no account.
    expect(text).not.toMatch(/Nguyễn|account:/);
  });

  it('refuses a scrape without the token, or with a wrong one', async () => {
    const none = await scrape();
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="nixa metrics"');
    expect(await none.text()).not.toContain('nixa_sign_ins_total');
    expect((await scrape(`Bearer ${TOKEN}x`)).status).toBe(401);
    expect((await scrape(`Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`)).status).toBe(401);
  });
});

describe('/metrics without a token', () => {
  const app = (allowLoopback: boolean, proxy: boolean) => {
    const a = new Koa({ proxy });
    const m = createMetrics({ activeSessions: async () => 0, auditChainLength: async () => 0 });
    a.use(metricsEndpoint(m, undefined, allowLoopback));
    return a.callback();
  };

  it('serves this machine outside production', async () => {
    const res = await request(app(true, false)).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toContain('nixa_sign_ins_total');
  });

  it('refuses a client that is not on this machine (behind a trusted proxy)', async () => {
    const res = await request(app(true, true)).get('/metrics').set('X-Forwarded-For', '203.0.113.7');
    expect(res.status).toBe(403);
    expect(res.body.error).toMatch(/NIXA_METRICS_TOKEN/);
  });

  it('serves nobody in production', async () => {
    const res = await request(app(false, false)).get('/metrics');
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('metrics need NIXA_METRICS_TOKEN in production');
  });
});
