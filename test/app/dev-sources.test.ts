// The demo's simulated sources on a data directory registered before sources could
// vouch for minor children: `npm start` gives the citizen-ID source its wards_claim,
// and leaves a registration the developer changed so that it cannot have one as it is.
import { randomBytes } from 'node:crypto';

import { SIMULATED_SOURCE_IDS, simulatedSourceRegistration, startSimulatedSources } from '../../src/app/dev-sources.js';
import { Cipher } from '../../src/keys/index.js';
import { addSource, getSource } from '../../src/sources/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { capturingLogger, freePortRun, testConfig } from '../support/nixa.js';

let tdb: TestDatabase;
const cipher = new Cipher(randomBytes(32));
const DEV = { allowHttpLoopback: true };

beforeEach(async () => {
  tdb = await createTestDatabase();
});

afterEach(async () => {
  await tdb?.drop();
});

/** The registration as an older nixa wrote it: without wards_claim, plus `changes`. */
async function registeredBefore(changes: Record<string, unknown> = {}): Promise<void> {
  const { wards_claim: _none, ...older } = simulatedSourceRegistration('citizen_id', 'http://localhost:4001', randomBytes(24).toString('base64url'));
  await addSource(tdb.db, cipher, { ...older, ...changes }, 'system:demo', DEV);
}

async function startDemoSources(logger = capturingLogger().logger) {
  const port = await freePortRun(4);
  const sources = await startSimulatedSources(tdb.db, cipher, testConfig({ PORT: String(port), NIXA_ISSUER: `http://127.0.0.1:${port}` }), logger);
  await Promise.all(sources.map((s) => s.close()));
}

it('gives the citizen-ID source of an older demo database its wards_claim, audited as the demo’s change', async () => {
  await registeredBefore();
  expect((await getSource(tdb.db, cipher, SIMULATED_SOURCE_IDS.citizen_id)).wardsClaim).toBeUndefined();
  await startDemoSources();
  expect((await getSource(tdb.db, cipher, SIMULATED_SOURCE_IDS.citizen_id)).wardsClaim).toBe('con_chua_thanh_nien');
  const { rows } = await tdb.db.query<{ actor: string; details: { changed: string[] } }>("SELECT actor, details FROM audit_events WHERE event = 'SOURCE_UPDATED' AND subject = $1", [SIMULATED_SOURCE_IDS.citizen_id]);
  expect(rows).toEqual([{ actor: 'system:demo', details: expect.objectContaining({ changed: ['wards_claim'] }) }]);
  // The telecom and bank say nothing about children.
  expect((await getSource(tdb.db, cipher, SIMULATED_SOURCE_IDS.bank)).wardsClaim).toBeUndefined();
});

it('leaves without wards_claim, and warns naming the source, a citizen-ID registration lowered below high', async () => {
  await registeredBefore({ proofing_level: 'substantial' });
  const logs = capturingLogger();
  await startDemoSources(logs.logger);
  expect((await getSource(tdb.db, cipher, SIMULATED_SOURCE_IDS.citizen_id)).wardsClaim).toBeUndefined();
  expect(logs.lines().filter((l) => /without wards_claim/.test(String(l.msg)))).toEqual([expect.objectContaining({ source: SIMULATED_SOURCE_IDS.citizen_id, field: 'wards_claim' })]);
});
