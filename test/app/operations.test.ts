// Health, readiness, security headers, logs that never carry secrets, and
// graceful shutdown.
import { Writable } from 'node:stream';

import { startNixa, type Nixa } from '../../src/app/index.js';
import { ConfigError } from '../../src/errors/index.js';
import { createLogger } from '../../src/logging/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort, testConfig } from '../support/nixa.js';
import { discover, redeem, registerTestClient, signIn } from '../support/relying-party.js';

let tdb: TestDatabase;
let nixa: Nixa;
const logLines: string[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase();
  const port = await freePort();
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  nixa = await startNixa(testConfig({ PORT: String(port), NIXA_ISSUER: `http://127.0.0.1:${port}`, NIXA_LOG_LEVEL: 'debug' }), {
    db: tdb.db,
    closeDatabase: false,
    logger: createLogger('debug', sink),
  });
});

afterAll(async () => {
  await nixa?.close();
  await tdb?.drop();
});

describe('operations endpoints', () => {
  it('answers /healthz while the process is alive', async () => {
    const res = await fetch(`${nixa.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz with each check when the database, migrations and keys are in place', async () => {
    const res = await fetch(`${nixa.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ready',
      checks: { shutdown: 'ok', database: 'ok', migrations: 'ok', notifications: 'ok', signingKeys: 'ok', provider: 'ok', shortLivedStore: 'ok' },
    });
  });

  it('reports not ready, naming the migration, when the schema is behind this build', async () => {
    const { rows } = await tdb.db.query<{ version: number; name: string; checksum: string }>('SELECT * FROM schema_migrations WHERE version = 1');
    await tdb.db.query('DELETE FROM schema_migrations WHERE version = 1');
    try {
      const res = await fetch(`${nixa.url}/readyz`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { checks: { migrations: string } }).checks.migrations).toBe('pending: 0001_foundation.sql');
    } finally {
      await tdb.db.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [1, rows[0]!.name, rows[0]!.checksum]);
    }
  });

  it('serves discovery whose issuer and endpoints match the configuration', async () => {
    const res = await fetch(`${nixa.url}/.well-known/openid-configuration`);
    const d = (await res.json()) as Record<string, unknown>;
    const issuer = nixa.config.issuer;
    expect(d).toMatchObject({
      issuer,
      authorization_endpoint: `${issuer}/auth`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
      userinfo_endpoint: `${issuer}/me`,
      end_session_endpoint: `${issuer}/session/end`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
    });
    expect(d.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['private_key_jwt', 'client_secret_basic', 'none']));
    expect(d.token_endpoint_auth_methods_supported).not.toContain('client_secret_post');
    expect(d.id_token_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256', 'RS256']));
    expect(d.id_token_signing_alg_values_supported).not.toContain('HS256');
  });

  it('publishes only public key material in JWKS, with a cache lifetime', async () => {
    const res = await fetch(`${nixa.url}/jwks`);
    expect(res.headers.get('content-type')).toMatch(/application\/jwk-set\+json/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=60');
    const { keys } = (await res.json()) as { keys: Record<string, string>[] };
    expect(keys.length).toBeGreaterThanOrEqual(4); // active + next for ES256 and RS256
    for (const k of keys) {
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(k).not.toHaveProperty(secret);
      expect(k).toMatchObject({ use: 'sig', kid: expect.any(String), alg: expect.stringMatching(/^(ES256|RS256)$/) });
    }
  });

  it('sends a strict content security policy and framing protection on pages', async () => {
    const res = await fetch(`${nixa.url}/auth?client_id=unknown`, { headers: { accept: 'text/html' } });
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('logs', () => {
  it('never contain the code, tokens, secret or verifier of a sign-in', async () => {
    const client = await registerTestClient(tdb.db);
    const config = await discover(nixa.config.issuer, client);
    const s = await signIn(config, client, { account: 'le-van-cuong' });
    const tokens = await redeem(config, s);
    await fetch(`${nixa.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=authorization_code&code=${s.callbackUrl.searchParams.get('code')}` });

    const all = logLines.join('');
    expect(all).toContain('"path":"/token"'); // the requests were logged...
    for (const secret of [s.callbackUrl.searchParams.get('code')!, tokens.access_token, tokens.id_token!, client.secret!, s.verifier]) {
      expect(all).not.toContain(secret); // ...without what must stay secret
    }
  });
});

describe('graceful shutdown', () => {
  it('finishes a request already in flight, then refuses new connections', async () => {
    const db = await createTestDatabase();
    const port = await freePort();
    const instance = await startNixa(testConfig({ PORT: String(port), NIXA_ISSUER: `http://127.0.0.1:${port}` }), { db: db.db, closeDatabase: true });
    const closing: Promise<void>[] = [];
    // Start shutting down the moment the request arrives, before it is handled.
    instance.server.once('request', () => closing.push(instance.close()));
    const res = await fetch(`${instance.url}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { issuer: string }).issuer).toBe(instance.config.issuer);
    await Promise.all(closing);
    expect(closing).toHaveLength(1);
    await expect(fetch(`${instance.url}/healthz`)).rejects.toThrow();
    // The database handle was closed too.
    await expect(db.db.query('SELECT 1')).rejects.toThrow();
    await db.drop();
  });
});

describe('a port already in use', () => {
  it('stops nixa from starting with an error naming PORT, and leaves nothing running: the same database starts again elsewhere', async () => {
    const { createServer } = await import('node:net');
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', () => resolve()));
    const { port } = squatter.address() as { port: number };
    const db = await createTestDatabase();
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    try {
      const err = await startNixa(testConfig({ PORT: String(port), NIXA_ISSUER: `http://127.0.0.1:${port}` }), { db: db.db, closeDatabase: false, logger: createLogger('info', sink) }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).variable).toBe('PORT');
      expect((err as Error).message).toContain(`PORT is ${port} on 127.0.0.1, which another program is already using`);
      // What it started was stopped: its shutdown ran (and logged), and the database is free to use.
      expect(lines.join('')).toContain('nixa stopped');
      expect((await db.db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      const next = await freePort();
      const again = await startNixa(testConfig({ PORT: String(next), NIXA_ISSUER: `http://127.0.0.1:${next}` }), { db: db.db, closeDatabase: false });
      expect((await fetch(`${again.url}/healthz`)).status).toBe(200);
      await again.close();
    } finally {
      squatter.close();
      await db.drop();
    }
  });
});
