// The results: a table for people, JSON for machines.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { PROJECT_ROOT } from '../src/paths.js';
import { REQUESTS_PER_FEDERATED_SIGN_IN } from './driver/federated-sign-in.js';
import { REQUESTS_PER_SIGN_IN } from './driver/sign-in.js';
import type { ComparedScenario, Measurement } from './protocol.js';
import type { BenchSettings } from './settings.js';
import type { WritesPerSignIn } from './writes.js';

export interface ScenarioResult {
  scenario: ComparedScenario;
  /** What one operation is: one HTTP request, or one whole sign-in. */
  operation: 'request' | 'sign-in';
  nixa: Measurement & { statementsPerOperation: number };
  baseline: Measurement;
  /** nixa divided by baseline. */
  ratio: { throughput: number; p50: number };
}

/**
 * The federated sign-in has no baseline (the bare provider has no upstream): it
 * is compared with nixa's own test-login round trip of the same run instead.
 */
export interface FederatedResult {
  scenario: 'federated_sign_in';
  operation: 'sign-in';
  /** nixa's id of the identity source signed in through. */
  source: string;
  /** Distinct returning citizens (one per sign-in loop, up to the source's seeded citizens). */
  citizens: number;
  requestsPerSignIn: number;
  nixa: Measurement & { statementsPerOperation: number };
  /** What the ratio compares with: nixa's authorization_code measurement of this run. */
  versus: { scenario: 'authorization_code'; label: 'nixa test-login round trip'; nixa: Measurement & { statementsPerOperation: number } };
  /** Federated divided by the test-login round trip. */
  ratio: { throughput: number; p50: number };
}

export interface BenchResults {
  finishedAt: string;
  environment: { node: string; postgres: string; cpus: number };
  settings: BenchSettings;
  scenarios: ScenarioResult[];
  federated: FederatedResult;
  /** The test-login round trip (authorization_code). */
  writesPerSignIn: WritesPerSignIn;
  writesPerFederatedSignIn: WritesPerSignIn;
}

const TITLES: Record<ComparedScenario, [string, string]> = {
  discovery: ['discovery', 'GET /.well-known/openid-configuration'],
  jwks: ['JWKS', 'GET /jwks'],
  client_credentials: ['client_credentials', 'POST /token, client_secret_basic'],
  authorization_code: ['authorization code + PKCE', `test-login round trip, ${REQUESTS_PER_SIGN_IN} requests`],
};

const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

const WIDTHS = [42, 14, 10, 9, 9, 13];

function row(cells: string[]): string {
  return cells.map((c, i) => (i < 2 ? c.padEnd(WIDTHS[i]!) : c.padStart(WIDTHS[i]!))).join('').trimEnd();
}

const measured = (m: Measurement) => [fixed(m.perSecond, 1), fixed(m.p50Ms, 2), fixed(m.p99Ms, 2)];

export function formatTable(scenarios: ScenarioResult[], federated: FederatedResult): string {
  const lines = [row(['scenario', 'provider', 'ops/s', 'p50 ms', 'p99 ms', 'db stmts/op']), '-'.repeat(97)];
  for (const s of scenarios) {
    const [title, detail] = TITLES[s.scenario];
    lines.push(
      row([title, 'nixa', ...measured(s.nixa), fixed(s.nixa.statementsPerOperation, 2)]),
      row([`  ${detail}`, 'baseline', ...measured(s.baseline)]),
      row(['', 'nixa/baseline', `${fixed(s.ratio.throughput, 2)}×`, `${fixed(s.ratio.p50, 2)}×`]),
    );
  }
  const f = federated;
  lines.push(
    row(['federated sign-in (citizen ID)', 'nixa', ...measured(f.nixa), fixed(f.nixa.statementsPerOperation, 2)]),
    row([`  ${f.requestsPerSignIn} requests, consent remembered`, 'no baseline']),
    row(['  vs nixa test-login round trip', 'fed/test-login', `${fixed(f.ratio.throughput, 2)}×`, `${fixed(f.ratio.p50, 2)}×`]),
    '',
    'An op is one HTTP request, or one whole sign-in for the round trips. db stmts/op: statements nixa sent to PostgreSQL.',
    `Federated: a returning citizen from a fresh browser through nixa's chooser and the simulated source ${f.source}'s picker`,
    `(${f.citizens} citizens, consent given once each before measuring); the source runs in nixa's process. Its ratio is to`,
    "nixa's own test-login round trip above, not to the baseline, which has no upstream.",
  );
  return lines.join('\n');
}

const TITLE: Record<WritesPerSignIn['scenario'], (n: number) => string> = {
  authorization_code: (n) => `Database writes per test-login sign-in (nixa, ${n} sign-ins by returning accounts):`,
  federated_sign_in: (n) => `Database writes per federated sign-in (nixa, ${n} sign-ins by returning citizens through the citizen-ID source, consent remembered):`,
};

export function formatWrites(w: WritesPerSignIn): string {
  const counts = (r: { inserted: number; updated: number; deleted: number }) =>
    `inserted ${fixed(r.inserted, 2)}, updated ${fixed(r.updated, 2)}, deleted ${fixed(r.deleted, 2)}`;
  const verbs = (byVerb: Record<string, number>) =>
    Object.entries(byVerb)
      .sort(([, a], [, b]) => b - a)
      .map(([verb, n]) => `${verb} ${fixed(n, 2)}`)
      .join(', ');
  const sum = (byVerb: Record<string, number>) => Object.values(byVerb).reduce((a, b) => a + b, 0);
  const byTable = Object.entries(w.statementsByTable).sort(([, a], [, b]) => sum(b) - sum(a));
  return [
    TITLE[w.scenario](w.signIns),
    `  rows written        ${fixed(w.rows.total, 2)}  (${counts(w.rows)}; pg_stat_user_tables)`,
    ...Object.entries(w.tables).map(([table, t]) => `    ${table.padEnd(20)}${counts(t)}; HOT updates ${fixed(t.hotUpdated, 2)}`),
    `  cross-checks        ${fixed(w.rowsReportedByStatements, 2)} rows reported by the statements; ${fixed(w.databaseRows, 2)} in pg_stat_database (system catalogs included)`,
    `  left for the purge  ${fixed(w.rowsLeftForPurge, 2)} rows (${Object.entries(w.rowsLeftForPurgeByTable).map(([t, n]) => `${t} ${fixed(n, 2)}`).join(', ')}), deleted once expired`,
    `  statements          ${fixed(w.statements, 2)}  (${verbs(w.statementsByVerb)}); transactions ${fixed(w.transactions, 2)}`,
    '  statements by table (oidc-provider models apart)',
    ...byTable.map(([table, v]) => `    ${table.padEnd(34)}${fixed(sum(v), 2).padStart(6)}  (${verbs(v)})`),
    ...(w.sourceRequests
      ? [
          `  at the source       ${fixed(sum(w.sourceRequests), 2)} requests  (${verbs(w.sourceRequests)})`,
        ]
      : []),
  ].join('\n');
}

/** Writes bench-results/latest.json (git-ignored) and returns its path. */
export function writeResults(results: BenchResults): string {
  const dir = join(PROJECT_ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'latest.json');
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
