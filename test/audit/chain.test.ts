// The chain's pure parts: hashing, the walk that names the first broken link,
// the redaction safety net, the retention rules and the CLI's time parsing.
import { createHash } from 'node:crypto';

import { canonicalJson, ChainWalker, eventHash, GENESIS, planPrune, redactDetails, redactText, storedSubjects, type ChainRow, type Partition } from '../../src/audit/index.js';
import { legacyHashMatches } from '../../src/audit/chain.js';
import { parseTime } from '../../src/cli/audit.js';
import { InvalidInputError } from '../../src/errors/index.js';

function chainOf(n: number): ChainRow[] {
  const rows: ChainRow[] = [];
  let prevHash = GENESIS;
  for (let seq = 1; seq <= n; seq++) {
    const base = {
      seq,
      at: new Date(Date.UTC(2025, 0, 1, 8, 0, seq)).toISOString(),
      event: 'SIGN_IN',
      actor: 'source:vneid',
      subject: `acc-${seq}`,
      reason: null,
      details: { level: 'high', service: 'dvc-hanoi', created: false },
      prevHash,
    };
    const hash = eventHash(base);
    rows.push({ ...base, hash, hashVersion: 2 });
    prevHash = hash;
  }
  return rows;
}

describe('the hash chain', () => {
  it('hashes canonical JSON, so the key order jsonb gives back does not matter', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 'Đà Nẵng', c: null }], e: undefined })).toBe('{"a":[{"c":null,"d":"Đà Nẵng"}],"b":1}');
    const [row] = chainOf(1);
    const reordered = { ...row!, details: { service: 'dvc-hanoi', created: false, level: 'high' } };
    expect(eventHash(reordered)).toBe(row!.hash);
  });

  it('walks an intact chain', () => {
    const walker = new ChainWalker({ seq: null, hash: GENESIS, what: 'the start' });
    for (const r of chainOf(50)) expect(walker.next(r)).toBeUndefined();
    expect(walker.count).toBe(50);
  });

  it('names an altered row by its seq', () => {
    const rows = chainOf(10);
    rows[6] = { ...rows[6]!, details: { ...rows[6]!.details, level: 'low' } };
    const walker = new ChainWalker({ seq: null, hash: GENESIS, what: 'the start' });
    const broken = rows.map((r) => walker.next(r)).find(Boolean);
    expect(broken).toMatchObject({ kind: 'altered', seq: 7 });
    expect(broken!.message).toContain('seq 7');
  });

  it('names the gap a removed row leaves, even if the next row were re-linked', () => {
    const rows = chainOf(10);
    const walker = new ChainWalker({ seq: null, hash: GENESIS, what: 'the start' });
    const broken = rows.filter((r) => r.seq !== 4).map((r) => walker.next(r)).find(Boolean);
    expect(broken).toMatchObject({ kind: 'missing', afterSeq: 3, beforeSeq: 5 });
    expect(broken!.message).toMatch(/missing between seq 3 and seq 5/);
  });

  it('names missing rows at the start against the anchor', () => {
    const walker = new ChainWalker({ seq: null, hash: GENESIS, what: 'the start of the trail' });
    expect(walker.next(chainOf(3)[2]!)).toMatchObject({ kind: 'missing', beforeSeq: 3 });
    expect(new ChainWalker('trust-first').next(chainOf(3)[2]!)).toBeUndefined();
  });

  it('checks rows written before migration 0008 whatever order jsonb gave their keys', () => {
    // The old appendAudit: JSON.stringify in the order the code built details.
    const at = '2025-01-01T08:00:00.000Z';
    const details = { use: 'sig', alg: 'ES256', state: 'next', nested: { z: 1, a: [{ y: 2, b: 3 }] } };
    const hash = createHash('sha256').update(JSON.stringify([GENESIS, at, 'KEY_CREATED', 'system:key-schedule', 'kid-1', details])).digest('hex');
    const stored = { seq: 1, at, event: 'KEY_CREATED', actor: 'system:key-schedule', subject: 'kid-1', reason: null, prevHash: GENESIS, hash, hashVersion: 1 as const };
    const jsonbOrder = { alg: 'ES256', use: 'sig', state: 'next', nested: { a: [{ b: 3, y: 2 }], z: 1 } };
    expect(legacyHashMatches({ ...stored, details: jsonbOrder })).toBe(true);
    expect(legacyHashMatches({ ...stored, details: { ...jsonbOrder, alg: 'RS256' } })).toBe(false);
  });
});

describe('what the trail may hold', () => {
  it('never a full ID number, a token or a secret', () => {
    const cleaned = redactDetails({
      note: 'CCCD 001085004217 khớp',
      idToken: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl',
      client_secret: 'abc',
      code: '482913',
      phone: '0912345678',
      nested: [{ password: 'x', nationalId: '*********217' }],
    });
    expect(JSON.stringify(cleaned)).not.toMatch(/001085004217|eyJhbGci|"abc"|482913|"x"/);
    expect(cleaned).toMatchObject({ note: 'CCCD *********217 khớp', phone: '0912345678', client_secret: '[removed]', code: '[removed]' });
  });

  it('keeps identifiers that merely hold twelve digits in a row: an account id (UUID) and a hex digest', () => {
    // About one random UUID in 280 ends in twelve decimal digits; redacting it moved
    // that account's events to a subject nobody looks up (its history lost them).
    const account = '3f2a9c1e-7b4d-4e8a-9c21-004217085001';
    const digest = 'ab'.repeat(10) + '001085004217' + 'cd'.repeat(10);
    expect(redactText(account)).toBe(account);
    expect(redactText(`account:${account}`)).toBe(`account:${account}`);
    expect(redactText(digest)).toBe(digest);
    expect(redactDetails({ factorId: account, hash: digest, list: [account] })).toEqual({ factorId: account, hash: digest, list: [account] });
  });

  it('finds an account under the form the old rule stored it as, and only then', () => {
    expect(storedSubjects('3f2a9c1e-7b4d-4e8a-9c21-004217085001')).toEqual(['3f2a9c1e-7b4d-4e8a-9c21-004217085001', '3f2a9c1e-7b4d-4e8a-9c21-*********001']);
    expect(storedSubjects('3f2a9c1e-7b4d-4e8a-9c21-00421708500a')).toEqual(['3f2a9c1e-7b4d-4e8a-9c21-00421708500a']);
  });

  it('still removes an ID number next to an identifier, glued to letters, or in a short hex-looking word', () => {
    const account = '3f2a9c1e-7b4d-4e8a-9c21-004217085001';
    expect(redactText(`${account} CCCD 001085004217`)).toBe(`${account} CCCD *********217`);
    expect(redactText('CCCD001085004217')).toBe('CCCD*********217');
    expect(redactText('cccd001085004217')).toBe('cccd*********217');
    expect(redactText('id=001085004217&x=1')).toBe('id=*********217&x=1');
    // Not a UUID (its last group is not twelve hex digits), so the ID number in it goes.
    expect(redactText('3f2a9c1e-7b4d-4e8a-9c21-x001085004217')).toBe('3f2a9c1e-7b4d-4e8a-9c21-x*********217');
  });
});

describe('retention', () => {
  const month = (y: number, m: number, events: number, firstSeq: number): Partition => ({
    name: `audit_events_${y}m${String(m).padStart(2, '0')}`,
    from: new Date(Date.UTC(y, m - 1, 1)).toISOString(),
    to: new Date(Date.UTC(y, m, 1)).toISOString(),
    events,
    firstSeq: events ? firstSeq : null,
    lastSeq: events ? firstSeq + events - 1 : null,
  });
  const parts = [month(2024, 1, 10, 1), month(2024, 2, 0, 0), month(2024, 3, 5, 11), month(2025, 6, 5, 16)];
  const now = new Date('2025-06-15T00:00:00Z');
  const exported = [{ from: '2024-01-01T00:00:00.000Z', to: '2024-04-01T00:00:00.000Z', lastSeq: 15 }];

  it('drops whole old months that are checkpointed and exported, oldest first', () => {
    const plan = planPrune(parts, new Date('2024-04-01T00:00:00Z'), now, 20, exported);
    expect(plan).toEqual({ ok: true, drop: parts.slice(0, 3) });
  });

  it('refuses a month not covered by a checkpoint, not exported in full, or too young', () => {
    expect(planPrune(parts, new Date('2024-04-01T00:00:00Z'), now, 12, exported)).toMatchObject({ ok: false, partition: 'audit_events_2024m03', why: expect.stringMatching(/checkpoint/) });
    expect(planPrune(parts, new Date('2024-04-01T00:00:00Z'), now, 20, [{ ...exported[0]!, lastSeq: 12 }])).toMatchObject({ ok: false, partition: 'audit_events_2024m03', why: expect.stringMatching(/exported/) });
    expect(planPrune(parts, new Date('2025-07-01T00:00:00Z'), now, 20, [{ ...exported[0]!, to: '2025-07-01T00:00:00.000Z', lastSeq: 20 }])).toMatchObject({ ok: false, partition: 'audit_events_2025m06', why: expect.stringMatching(/12 months/) });
  });
});

describe('export times', () => {
  it('accepts a date or an ISO time with its offset', () => {
    expect(parseTime('2025-01-31', '--from').toISOString()).toBe('2025-01-31T00:00:00.000Z');
    expect(parseTime('2025-01-31T08:00:00+07:00', '--to').toISOString()).toBe('2025-01-31T01:00:00.000Z');
  });

  it.each(['2025-02-30', '31/01/2025', '2025-01-31T08:00', 'yesterday', ''])('refuses %j naming the option', (v) => {
    expect(() => parseTime(v, '--from')).toThrow(InvalidInputError);
    expect(() => parseTime(v, '--from')).toThrow(/^--from: a date like/);
  });
});
