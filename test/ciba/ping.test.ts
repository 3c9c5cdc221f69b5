// CIBA ping mode delivered for real: nixa as operators run it (dist/src/main.js,
// on PostgreSQL), trusting a test CA through Node's NODE_EXTRA_CA_CERTS — as a
// deployment trusts a national root CA — and a service whose notification
// endpoint is https with a certificate from that CA. When the citizen approves
// on their bound phone, nixa pings the service with its client_notification_token
// and the auth_req_id (CIBA §10.2), and the service then takes its tokens.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as oidc from 'openid-client';

import { createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../support/database.js';
import { freePortRun, TEST_MASTER_KEY } from '../support/nixa.js';
import { approveWithPasskey, boundPhone, openOnPhone, PHONE_PASSKEY_ENV } from '../support/phone.js';
import { discover, registerTestClient } from '../support/relying-party.js';
import { waitFor } from '../support/wait.js';

const onPostgres = TEST_DATABASE_URL ? describe : describe.skip;
const CIBA = 'urn:openid:params:grant-type:ciba';

/** A CA and a certificate for localhost signed by it, made with openssl in `dir`. */
function testPki(dir: string): { ca: string; key: Buffer; cert: Buffer } {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  ssl('req', '-x509', ...ec, '-days', '1', '-subj', '/CN=nixa test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
  ssl('req', ...ec, '-subj', '/CN=localhost', '-keyout', 'key.pem', '-out', 'req.csr');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
  ssl('x509', '-req', '-in', 'req.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'san.ext', '-out', 'cert.pem');
  return { ca: join(dir, 'ca.pem'), key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
}

onPostgres('CIBA ping mode, delivered over https to a service with a certificate of a CA nixa is told to trust', () => {
  let tdb: TestDatabase;
  let child: ChildProcess | undefined;
  let stderr = '';
  let pingServer: Server;
  let dir: string;
  let issuer: string;
  const pings: { auth: string | undefined; body: unknown }[] = [];

  beforeAll(async () => {
    tdb = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'nixa-ciba-pki-'));
    const pki = testPki(dir);
    pingServer = createServer({ key: pki.key, cert: pki.cert }, (req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        pings.push({ auth: req.headers.authorization, body: JSON.parse(body || '{}') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => pingServer.listen(0, '127.0.0.1', resolve));
    const port = await freePortRun(4); // nixa and its three simulated sources
    const url = (issuer = `http://127.0.0.1:${port}`);
    child = spawn(process.execPath, ['dist/src/main.js'], {
      env: {
        PATH: process.env.PATH,
        NODE_EXTRA_CA_CERTS: pki.ca,
        NIXA_ENV: 'test',
        NIXA_DEMO: 'true',
        NIXA_TEST_LOGIN: 'false',
        NIXA_MASTER_KEY: TEST_MASTER_KEY,
        NIXA_DATA_DIR: mkdtempSync(join(tmpdir(), 'nixa-ciba-process-')),
        NIXA_LOG_LEVEL: 'warn',
        NIXA_HOST: '127.0.0.1',
        PORT: String(port),
        NIXA_ISSUER: url,
        DATABASE_URL: tdb.url!,
        ...PHONE_PASSKEY_ENV,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (d: Buffer) => void (stderr += d.toString()));
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, 30_000, 'the nixa process to be ready');
    // Ready says nothing of the demo's simulated sources beside it (PORT+1..3): a sign-in
    // before they listen finds the source silent, and the chooser remembers that a while.
    for (const n of [1, 2, 3]) {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port + n}/.well-known/openid-configuration`)).ok, 30_000, `simulated source ${n} to listen`);
    }
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child!.once('exit', resolve));
    }
    pingServer?.closeAllConnections();
    await new Promise((resolve) => pingServer?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
    await tdb?.drop();
  });

  it('pings the service with its token and the auth_req_id once the citizen approved; the service then takes the tokens', async () => {
    const portal = await registerTestClient(tdb.db, { scope: 'openid profile', name: 'Cổng dịch vụ công' });
    const world = { issuer, config: await discover(issuer, portal), redirectUri: portal.redirectUri };
    const phone = await boundPhone(world, 'citizen_id', 'nguyen-van-an');
    const hotline = await registerTestClient(tdb.db, {
      name: 'Tổng đài 1022',
      grant_types: [CIBA],
      redirect_uris: [],
      post_logout_redirect_uris: [],
      backchannel_token_delivery_mode: 'ping',
      backchannel_client_notification_endpoint: `https://localhost:${(pingServer.address() as AddressInfo).port}/ciba`,
      scope: 'openid profile',
    });
    const config = await discover(issuer, hotline);
    const asked = await oidc.initiateBackchannelAuthentication(config, {
      scope: 'openid profile',
      login_hint: '001085004217',
      binding_message: 'Tổng đài: 77',
      client_notification_token: 'hotline-token-8f3a',
    });
    const list = await openOnPhone(world, phone, '/p');
    const link = /<a href="(\/p\/[A-Z]{10})">Tổng đài 1022<\/a>/.exec(list.html)![1]!;
    const page = await openOnPhone(world, phone, link);
    expect((await approveWithPasskey(world, phone, link, page.csrf!)).status).toBe(200);

    await waitFor(() => pings.length === 1, 5_000, `the ping to reach the service (nixa said: ${stderr.slice(-300)})`);
    expect(pings[0]).toEqual({ auth: 'Bearer hotline-token-8f3a', body: { auth_req_id: asked.auth_req_id } });
    const tokens = await oidc.genericGrantRequest(config, CIBA, { auth_req_id: asked.auth_req_id });
    expect(tokens.claims()).toMatchObject({ acr: 'urn:nixa:loa:high', name: 'Nguyễn Văn An' });
  }, 60_000);
});
