// `nixa audit …`: in-process for behaviour and bad input, as a real process for
// DATABASE_URL and for the embedded database through the running server.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { startNixa } from '../../src/app/index.js';
import { appendAudit } from '../../src/audit/index.js';
import { loadConfig } from '../../src/config/index.js';
import { Cipher, KeyRing } from '../../src/keys/index.js';
import { silentLogger } from '../../src/logging/index.js';
import { cliRunner } from '../support/cli.js';
import { createTestDatabase, TEST_DATABASE_URL, type TestDatabase } from '../support/database.js';
import { freePort, TEST_MASTER_KEY, testConfig } from '../support/nixa.js';

let tdb: TestDatabase;
const nixa = cliRunner(() => tdb.db);

beforeAll(async () => {
  tdb = await createTestDatabase();
  await new KeyRing(tdb.db, new Cipher(Buffer.from(TEST_MASTER_KEY, 'base64')), testConfig(), silentLogger).maintain();
  for (let i = 0; i < 8; i++) {
    await tdb.db.transaction((tx) =>
      appendAudit(tx, { event: 'SIGN_IN', actor: 'source:vneid', subject: `acc-${i}`, details: { level: 'high', service: 'dvc-hanoi' } }),
    );
  }
});

afterAll(async () => {
  await tdb?.drop();
});

const lastSeq = async () => (await tdb.db.query<{ seq: number }>('SELECT max(seq) AS seq FROM audit_events')).rows[0]!.seq;

describe('nixa audit', () => {
  it('verifies an intact trail, and signs a checkpoint only when there is something new', async () => {
    const verify = await nixa('audit', 'verify');
    expect(verify).toMatchObject({ code: 0, stderr: '' });
    expect(verify.stdout).toMatch(/^audit trail intact: \d+ events, seq 1–\d+; no signed checkpoint yet/);

    const first = await nixa('audit', 'checkpoint');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`^checkpoint 1: seq ${await lastSeq()} hash [0-9a-f]{64}, signed with ES256 key \\S+`));
    expect((await nixa('audit', 'checkpoint')).stdout).toBe('no event since the last checkpoint: nothing to sign\n');

    const again = await nixa('audit', 'verify', '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, checkpoints: 1, keys: [{ attestedBy: 'keys table', checkpoints: 1 }] });
  });

  it('exports a range to a new owner-only file and records the export with the file\'s digest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nixa-audit-'));
    const out = join(dir, 'trail.jsonl');
    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const r = await nixa('audit', 'export', '--from', today, '--to', tomorrow, '--out', out, '--reason', 'thanh tra Bộ Công an');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/exported \d+ events and 1 checkpoints to .*trail\.jsonl/);
    const text = readFileSync(out, 'utf8');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; seq?: number });
    expect(lines.filter((l) => l.type === 'event').map((l) => l.seq)).toEqual(Array.from({ length: lines.length - 1 }, (_, i) => i + 1));
    const { rows } = await tdb.db.query<{ reason: string; details: { sha256: string; events: number } }>(
      `SELECT reason, details FROM audit_events WHERE event = 'AUDIT_EXPORTED'`,
    );
    expect(rows).toEqual([{ reason: 'thanh tra Bộ Công an', details: expect.objectContaining({ sha256: createHash('sha256').update(text).digest('hex'), events: lines.length - 1 }) }]);

    const exists = await nixa('audit', 'export', '--from', today, '--to', tomorrow, '--out', out);
    expect(exists.code).toBe(2);
    expect(exists.stderr).toMatch(/^nixa: --out: cannot create/);

    const stdout = await nixa('audit', 'export', '--from', `${today}T00:00:00+07:00`, '--to', tomorrow);
    expect(stdout.stdout.split('\n')[0]).toMatch(/^\{"type":"event","seq":1,/);
  });

  it('lists month partitions, and refuses to remove a month that is too young', async () => {
    const parts = await nixa('audit', 'partitions');
    expect(parts.code).toBe(0);
    expect(parts.stdout).toMatch(new RegExp(`audit_events_${new Date().toISOString().slice(0, 7).replace('-', 'm')} +\\S+ +\\S+ +\\d+ +1–\\d+`));
    const next = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 1)).toISOString().slice(0, 7);
    const prune = await nixa('audit', 'prune', '--before', next, '--reason', 'lưu trữ đủ 12 tháng');
    expect(prune.code).toBe(1);
    expect(prune.stderr).toMatch(/cannot remove audit_events_\d{4}m\d{2}: \d{4}-\d{2} is less than 12 months old.*NIXA-STA-001/);
  });

  it.each([
    [['verify', '--from', 'abc'], /^nixa: --from: a seq number/],
    [['verify', '--from', '0'], /^nixa: --from: a seq number/],
    [['export', '--from', '2025-13-01', '--to', '2025-02-01'], /^nixa: --from: a date like 2025-01-31/],
    [['export', '--from', '2025-01-01', '--to', '01/02/2025'], /^nixa: --to: a date like/],
    [['export', '--from', '2025-02-01', '--to', '2025-01-01'], /^nixa: --to: must be after --from/],
    [['export', '--from', '2025-01-01'], /required option '--to <time>'/],
    [['prune', '--before', '2025-1', '--reason', 'lưu trữ đủ 12 tháng'], /^nixa: --before: a month like 2025-01/],
    [['prune', '--before', '2025-01'], /required option '--reason <text>'/],
    [['prune', '--before', '2025-01', '--reason', ' '], /^nixa: --reason: say why, in at least 10 characters/],
    // The admin API's rule (audit/reason.ts): a word or two is not a reason.
    [['prune', '--before', '2025-01', '--reason', 'retention'], /^nixa: --reason: say why, in at least 10 characters/],
  ])('refuses audit %j with exit 2, naming the option', async (args, message) => {
    const before = await lastSeq();
    const r = await nixa('audit', ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(await lastSeq()).toBe(before);
  });

  it('exits 1 naming the seq of a row altered directly in PostgreSQL, and checks from a seq on', async () => {
    await tdb.db.transaction(async (tx) => {
      await tx.query('SET LOCAL session_replication_role = replica');
      await tx.query(`UPDATE audit_events SET subject = 'acc-mallory' WHERE seq = 4`);
    });
    const r = await nixa('audit', 'verify');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/audit trail BROKEN/);
    expect(r.stdout).toMatch(/first broken link: seq 4 \(\d{4}-\d{2}-\d{2}T[\d:.]+Z\) was altered/);
    expect((await nixa('audit', 'verify', '--from', '5')).code).toBe(0);
  });
});

describe('the nixa audit process', () => {
  const run = promisify(execFile);
  const bin = join(process.cwd(), 'bin', 'nixa.js');
  const exec = async (args: string[], env: Record<string, string>, cwd?: string) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH!, ...env }, ...(cwd ? { cwd } : {}) });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  (TEST_DATABASE_URL ? it : it.skip)('verifies directly on PostgreSQL with DATABASE_URL, exit 1 on the broken trail', async () => {
    const r = await exec(['audit', 'verify'], { DATABASE_URL: tdb.url!, NIXA_MASTER_KEY: TEST_MASTER_KEY });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/first broken link: seq 4/);
  });

  it('on the embedded database, runs in the server and writes --out relative to the operator\'s directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'nixa-embedded-'));
    const work = mkdtempSync(join(tmpdir(), 'nixa-operator-'));
    const env = { NIXA_DATA_DIR: dataDir, NIXA_MASTER_KEY: TEST_MASTER_KEY, NIXA_DEMO: 'false', NIXA_LOG_LEVEL: 'silent' };
    const port = await freePort();
    const server = await startNixa(loadConfig({ ...env, PORT: String(port), NIXA_HOST: '127.0.0.1' }), { logger: silentLogger });
    try {
      const checkpoint = await exec(['audit', 'checkpoint'], env);
      expect(checkpoint.stdout).toMatch(/^checkpoint 1: /);
      const today = new Date().toISOString().slice(0, 10);
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
      const r = await exec(['audit', 'export', '--from', today, '--to', tomorrow, '--out', 'trail.jsonl'], env, work);
      expect(r.code).toBe(0);
      expect(readFileSync(join(work, 'trail.jsonl'), 'utf8')).toMatch(/"event":"KEY_CREATED"/);
      const verify = await exec(['audit', 'verify'], env);
      expect(verify.code).toBe(0);
      expect(verify.stdout).toMatch(/^audit trail intact: .*1 signed checkpoints/);
    } finally {
      await server.close();
    }
  });
});
