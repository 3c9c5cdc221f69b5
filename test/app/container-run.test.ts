// The container run README documents, as an operator types it: the built server
// (dist/src/main.js, the image's entry point) with the image's environment
// (Dockerfile ENV) and exactly README's `docker run -e …` variables, against a
// fresh PostgreSQL database. Only the placeholders change: the database URL, a
// master key, and the port (docker's -p maps it). TLS is terminated in front of
// nixa (NIXA_TRUST_PROXY=true): the test speaks to nixa as that proxy does, with
// the issuer's Host and X-Forwarded-Proto: https.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';

import { createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../support/database.js';
import { freePort } from '../support/nixa.js';
import { waitFor } from '../support/wait.js';

const onPostgres = TEST_DATABASE_URL ? describe : describe.skip;

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');

/** README's `docker run` under "Running in a container": its -e variables, and its -p mapping. */
function readmeDockerRun(text: string): { env: Record<string, string>; publish: string } {
  const section = /### Running in a container\n([\s\S]*?)\n#/.exec(text)?.[1] ?? '';
  const command = /docker run ([\s\S]*?)\n\s*nixa\n/.exec(section)?.[1];
  if (!command) throw new Error('README has no `docker run … nixa` under "Running in a container"');
  const env: Record<string, string> = {};
  for (const m of command.matchAll(/-e ([A-Z_]+)=("[^"]*"|\S+)/g)) env[m[1]!] = m[2]!.replace(/^"|"$/g, '');
  const publish = /-p (\S+)/.exec(command)?.[1] ?? '';
  return { env, publish };
}

/** The runtime stage's ENV of the Dockerfile. */
function imageEnv(text: string): Record<string, string> {
  const runtime = text.slice(text.lastIndexOf('FROM '));
  const block = /^ENV ((?:.*\\\n)*.*)$/m.exec(runtime)?.[1] ?? '';
  return Object.fromEntries([...block.matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
}

const docker = readmeDockerRun(readme);
const image = imageEnv(dockerfile);
const issuer = docker.env.NIXA_ISSUER!;

let tdb: TestDatabase;
let child: ChildProcess | undefined;
let exited: { code: number | null; signal: string | null } | undefined;
let output = '';
let port: number;

/** A request as the TLS-terminating proxy in front of nixa sends it. */
function viaProxy(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        headers: { host: new URL(issuer).host, 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7', ...headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  if (!TEST_DATABASE_URL) return;
  tdb = await createTestDatabase({ migrate: false });
  port = await freePort();
  const env: Record<string, string> = {
    ...image,
    ...docker.env,
    // The placeholders of README's command, and docker's port mapping.
    DATABASE_URL: tdb.url!,
    NIXA_MASTER_KEY: randomBytes(32).toString('base64'),
    PORT: String(port),
  };
  child = spawn(process.execPath, ['dist/src/main.js'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => void (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => void (output += d.toString()));
  child.once('exit', (code, signal) => void (exited = { code, signal }));
  await waitFor(async () => {
    if (exited) throw new Error(`nixa exited at start (${exited.code}): ${output.slice(-800)}`);
    return (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200;
  }, 30_000, 'the nixa process to listen');
}, 60_000);

afterAll(async () => {
  if (child && !exited) {
    const gone = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  }
  await tdb?.drop();
});

describe("README's container run", () => {
  it('is read from README and the Dockerfile: production, behind a TLS proxy, with a database and a master key', () => {
    expect(image).toMatchObject({ NIXA_ENV: 'production', NIXA_HOST: '0.0.0.0', PORT: '3000' });
    expect(Object.keys(docker.env).sort()).toEqual(['DATABASE_URL', 'NIXA_ISSUER', 'NIXA_MASTER_KEY', 'NIXA_TRUST_PROXY']);
    expect(docker.env.NIXA_TRUST_PROXY).toBe('true');
    expect(issuer).toMatch(/^https:\/\//);
    expect(docker.publish).toBe(`${image.PORT}:${image.PORT}`);
  });
});

onPostgres('the built server started as README says', () => {
  it('stays up and becomes ready, without the demo', async () => {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 20_000, '/readyz to answer 200');
    const ready = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { status: string };
    expect(ready.status).toBe('ready');
    expect(exited).toBeUndefined();
    // Production runs no simulated source and registers neither them nor the demo service.
    expect(output).not.toMatch(/simulated source|demo service/);
    expect((await tdb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM identity_sources')).rows[0]!.n).toBe(0);
  });

  it('serves discovery and keys at the https issuer through the proxy', async () => {
    const res = await viaProxy('/.well-known/openid-configuration');
    expect(res.status).toBe(200);
    const meta = JSON.parse(res.body) as Record<string, string>;
    expect(meta.issuer).toBe(issuer);
    expect(meta.authorization_endpoint).toBe(`${issuer}/auth`);
    expect(meta.jwks_uri).toBe(`${issuer}/jwks`);
    const jwks = JSON.parse((await viaProxy('/jwks')).body) as { keys: { alg: string }[] };
    expect([...new Set(jwks.keys.map((k) => k.alg))].sort()).toEqual(['ES256', 'RS256']);
  });

  it("answers the console's sign-in with a page saying nixa's address does not answer from here, not a 500", async () => {
    // README's issuer is an example: its host does not resolve on a test machine.
    const resolves = await lookup(new URL(issuer).hostname).then(() => true, () => false);
    const res = await viaProxy('/console/login', { accept: 'text/html' });
    expect(res.status).not.toBe(500);
    if (resolves) return; // then the console reaches (or fails at) a real host: nothing more to say here
    expect(res.status).toBe(503);
    expect(res.body).toContain('The console cannot reach nixa');
    expect(res.body).toContain(issuer);
    expect(res.body).toMatch(/host name does not resolve/);
    expect(res.body).toContain('href="/console/login"');
    expect(exited).toBeUndefined();
  });
});
