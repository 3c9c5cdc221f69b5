// The built nixa (dist/src/main.js) as operators run it, on real PostgreSQL, with
// the demo's simulated sources so that sign-ins write in transactions: every
// connection of its database is cut again and again while citizens sign in. The
// process must not exit, and must serve and report ready again straight after.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import type * as oidc from 'openid-client';

import { verifyTrail } from '../../src/audit/index.js';
import { connectionCutter, createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../support/database.js';
import { federatedSignIn, redeemFederated } from '../support/federation.js';
import { freePortRun, TEST_MASTER_KEY } from '../support/nixa.js';
import { discover, registerTestClient, type TestClient } from '../support/relying-party.js';
import { waitFor } from '../support/wait.js';

const onPostgres = TEST_DATABASE_URL ? describe : describe.skip;

let tdb: TestDatabase;
let child: ChildProcess | undefined;
let exited: { code: number | null; signal: string | null } | undefined;
let stderr = '';
let url: string;
let service: TestClient;
let rp: oidc.Configuration;

beforeAll(async () => {
  if (!TEST_DATABASE_URL) return;
  tdb = await createTestDatabase();
  const port = await freePortRun(4); // nixa and its three simulated sources
  url = `http://127.0.0.1:${port}`;
  // NIXA_TEST_MAIN runs another build (e.g. an older commit's) to see this test fail there.
  child = spawn(process.execPath, [process.env.NIXA_TEST_MAIN ?? 'dist/src/main.js'], {
    env: {
      PATH: process.env.PATH,
      NIXA_ENV: 'test',
      NIXA_DEMO: 'true',
      NIXA_TEST_LOGIN: 'false',
      NIXA_MASTER_KEY: TEST_MASTER_KEY,
      NIXA_DATA_DIR: mkdtempSync(join(tmpdir(), 'nixa-process-')),
      NIXA_LOG_LEVEL: 'warn',
      NIXA_HOST: '127.0.0.1',
      PORT: String(port),
      NIXA_ISSUER: url,
      DATABASE_URL: tdb.url!,
      NIXA_KEYS_REFRESH_SECONDS: '3600',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (d: Buffer) => void (stderr += d.toString()));
  child.once('exit', (code, signal) => void (exited = { code, signal }));
  await waitFor(async () => {
    if (exited) throw new Error(`nixa exited at start: ${stderr.slice(-500)}`);
    return (await fetch(`${url}/readyz`)).status === 200;
  }, 20_000, 'the nixa process to be ready');
  service = await registerTestClient(tdb.db, { scope: 'openid profile' });
  rp = await discover(url, service);
}, 60_000);

afterAll(async () => {
  if (child && !exited) {
    const gone = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  }
  await tdb?.drop();
});

async function signIn(citizen: string): Promise<void> {
  const s = await federatedSignIn(rp, service.redirectUri, { source: 'citizen_id', citizen, consent: 'accept' });
  if (!s.stoppedAt) {
    const code = /NIXA-[A-Z]+-[a-z0-9-]+/.exec(s.page?.html ?? '')?.[0] ?? 'no code';
    throw new Error(`sign-in stopped at a page (${s.page?.status}, ${code}); nixa said: ${stderr.slice(-800)}`);
  }
  await redeemFederated(rp, s);
}

onPostgres('the nixa process when its database connections are cut', () => {
  it('does not exit, and serves and reports ready again straight after', async () => {
    // Ready to serve sign-ins first (its simulated sources start beside it): what is
    // measured below is the cuts, not the start.
    await waitFor(() => signIn('nguyen-van-an').then(() => true, () => false), 20_000, 'a first sign-in');
    const cutter = await connectionCutter(tdb);
    let cutting = true;
    const citizens = ['nguyen-van-an', 'tran-thi-binh', 'le-hoang-cuong', 'pham-thi-dung'];
    const workers = citizens.map(async (citizen) => {
      for (let i = 0; cutting && i < 40; i++) await signIn(citizen).catch(() => {});
    });
    // At least 4 s and 6 connections cut (fewer backends live on a loaded machine), at most 12 s.
    const [least, most] = [Date.now() + 4_000, Date.now() + 12_000];
    let cuts = 0;
    while ((Date.now() < least || cuts <= 5) && Date.now() < most && !exited) {
      cuts += await cutter.cut();
      await sleep(100 + Math.random() * 250);
    }
    cutting = false;
    await Promise.all(workers);
    await cutter.close();

    expect(cuts).toBeGreaterThan(5);
    expect({ exited, said: exited ? stderr.slice(-3000) : "" }).toEqual({ exited: undefined, said: "" });
    await waitFor(() => signIn('hoang-minh-duc').then(() => true), 3_000, 'a sign-in after the cuts');
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, 5_000, 'the process to report ready (LISTEN back)');
    expect({ exited, said: exited ? stderr.slice(-3000) : "" }).toEqual({ exited: undefined, said: "" });
    expect(stderr).not.toMatch(/Unhandled 'error' event|uncaught/i);
    expect((await verifyTrail(tdb.db)).ok).toBe(true);
  });
});
