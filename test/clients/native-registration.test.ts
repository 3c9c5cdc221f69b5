// Registering a native app with `nixa clients add`: a public client, no secret
// printed, and a refusal that names the field the operator got wrong.
import { updateClient } from '../../src/clients/index.js';
import { InvalidInputError } from '../../src/errors/index.js';
import { cliRunner } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let tdb: TestDatabase;

beforeAll(async () => {
  tdb = await createTestDatabase();
});

afterAll(async () => {
  await tdb?.drop();
});

// Production: loopback redirects are a native app's right there too, not a development convenience.
const nixa = cliRunner(() => tdb.db, {
  NIXA_ENV: 'production',
  NIXA_TEST_LOGIN: 'false',
  NIXA_ISSUER: 'https://id.nixa.gov.vn',
  // Only for the configuration to load: the commands use the test database given above.
  DATABASE_URL: 'postgres://nixa@db.invalid/nixa',
});
const WHY = ['--reason', 'Ứng dụng Dịch vụ công trên điện thoại'];

describe('nixa clients add --application-type native', () => {
  it('registers a public client with app redirect URIs and prints no secret', async () => {
    const r = await nixa(
      'clients', 'add', '--client-id', 'dvc-app', '--name', 'Ứng dụng Dịch vụ công', '--application-type', 'native',
      '--redirect-uri', 'vn.gov.dichvucong.app:/oauth2redirect', '--redirect-uri', 'http://127.0.0.1/oauth2redirect',
      '--redirect-uri', 'https://dichvucong.gov.vn/app/oauth2redirect', ...WHY,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('application type: native');
    expect(r.stdout).toContain('auth method:      none');
    expect(r.stdout).not.toContain('client_secret');

    const show = JSON.parse((await nixa('clients', 'show', 'dvc-app', '--json')).stdout);
    expect(show).toMatchObject({ applicationType: 'native', tokenEndpointAuthMethod: 'none' });
    const { rows } = await tdb.db.query<{ details: Record<string, unknown> }>("SELECT details FROM audit_events WHERE event = 'CLIENT_ADDED' AND subject = 'dvc-app'");
    expect(rows[0]!.details).toMatchObject({ applicationType: 'native', method: 'none' });
  });

  it.each([
    [['--redirect-uri', 'myapp://oauth2redirect'], 'redirect_uris[0]', /reverse domain name/],
    [['--redirect-uri', 'http://localhost:8400/cb'], 'redirect_uris[0]', /not localhost/],
    [['--redirect-uri', 'http://127.0.0.1/cb', '--auth-method', 'client_secret_basic'], 'token_endpoint_auth_method', /cannot keep a secret/],
  ])('refuses %j, naming %s', async (args, field, problem) => {
    const r = await nixa('clients', 'add', '--name', 'Ứng dụng thử', '--application-type', 'native', ...args, ...WHY);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${field}:`);
    expect(r.stderr).toMatch(problem);
    expect(r.stdout).toBe('');
  });

  it('keeps a web client on exact https redirects, as before', async () => {
    const r = await nixa('clients', 'add', '--name', 'Cổng thử', '--redirect-uri', 'http://127.0.0.1/cb', ...WHY);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('redirect_uris[0]:');
  });
});

describe('changing a native app', () => {
  const opts = { allowHttpLoopback: false };
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('accepted');
      },
      (err: unknown) => {
        if (!(err instanceof InvalidInputError)) throw err;
        return { field: err.field, problem: err.problem };
      },
    );

  it('checks added redirect URIs by the native rules, and keeps the type', async () => {
    const uris = ['vn.gov.dichvucong.app:/oauth2redirect', 'http://127.0.0.1/oauth2redirect', 'https://dichvucong.gov.vn/app/oauth2redirect'];
    expect(await refusal(updateClient(tdb.db, 'dvc-app', { redirect_uris: [...uris, 'myapp://cb'] }, 'test', opts))).toEqual({
      field: 'redirect_uris[3]',
      problem: expect.stringMatching(/reverse domain name/),
    });
    const changed = await updateClient(tdb.db, 'dvc-app', { redirect_uris: [...uris, 'http://[::1]/oauth2redirect'] }, 'test', opts);
    expect(changed).toMatchObject({ applicationType: 'native', redirectUris: [...uris, 'http://[::1]/oauth2redirect'] });
    expect((await refusal(updateClient(tdb.db, 'dvc-app', { application_type: 'web' }, 'test', opts))).field).toBe('application_type');
  });
});
