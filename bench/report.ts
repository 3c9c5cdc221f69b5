// The results: a table for people, JSON for machines.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { PROJECT_ROOT } from '../src/paths.js';
import { REQUESTS_PER_SIGN_IN } from './driver/sign-in.js';
import type { Measurement, ScenarioName } from './protocol.js';
import type { BenchSettings } from './settings.js';
import type { WritesPerSignIn } from './writes.js';

export interface ScenarioResult {
  scenario: ScenarioName;
  /** What one operation is: one HTTP request, or one whole sign-in. */
  operation: 'request' | 'sign-in';
  nixa: Measurement & { statementsPerOperation: number };
  baseline: Measurement;
  /** nixa divided by baseline. */
  ratio: { throughput: number; p50: number };
}

export interface BenchResults {
  finishedAt: string;
  environment: { node: string; postgres: string; cpus: number };
  settings: BenchSettings;
  scenarios: ScenarioResult[];
  writesPerSignIn: WritesPerSignIn;
}

const TITLES: Record<ScenarioName, [string, string]> = {
  discovery: ['discovery', 'GET /.well-known/openid-configuration'],
  jwks: ['JWKS', 'GET /jwks'],
  client_credentials: ['client_credentials', 'POST /token, client_secret_basic'],
  authorization_code: ['authorization code + PKCE', `sign-in round trip, ${REQUESTS_PER_SIGN_IN} requests`],
};

const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

const WIDTHS = [42, 14, 10, 9, 9, 13];

function row(cells: string[]): string {
  return cells.map((c, i) => (i < 2 ? c.padEnd(WIDTHS[i]!) : c.padStart(WIDTHS[i]!))).join('').trimEnd();
}

export function formatTable(scenarios: ScenarioResult[]): string {
  const lines = [row(['scenario', 'provider', 'ops/s', 'p50 ms', 'p99 ms', 'db stmts/op']), '-'.repeat(97)];
  for (const s of scenarios) {
    const [title, detail] = TITLES[s.scenario];
    lines.push(
      row([title, 'nixa', fixed(s.nixa.perSecond, 1), fixed(s.nixa.p50Ms, 2), fixed(s.nixa.p99Ms, 2), fixed(s.nixa.statementsPerOperation, 2)]),
      row([`  ${detail}`, 'baseline', fixed(s.baseline.perSecond, 1), fixed(s.baseline.p50Ms, 2), fixed(s.baseline.p99Ms, 2)]),
      row(['', 'nixa/baseline', `${fixed(s.ratio.throughput, 2)}×`, `${fixed(s.ratio.p50, 2)}×`]),
    );
  }
  lines.push('', 'An op is one HTTP request, or one whole sign-in for the round trip. db stmts/op: statements nixa sent to PostgreSQL.');
  return lines.join('\n');
}

export function formatWrites(w: WritesPerSignIn): string {
  const counts = (r: { inserted: number; updated: number; deleted: number }) =>
    `inserted ${fixed(r.inserted, 2)}, updated ${fixed(r.updated, 2)}, deleted ${fixed(r.deleted, 2)}`;
  const verbs = Object.entries(w.statementsByVerb)
    .sort(([, a], [, b]) => b - a)
    .map(([verb, n]) => `${verb} ${fixed(n, 2)}`)
    .join(', ');
  return [
    `Database writes per sign-in (nixa, ${w.signIns} sign-ins by returning accounts):`,
    `  rows written        ${fixed(w.rows.total, 2)}  (${counts(w.rows)}; pg_stat_user_tables)`,
    ...Object.entries(w.tables).map(([table, t]) => `    ${table.padEnd(16)}${counts(t)}; HOT updates ${fixed(t.hotUpdated, 2)}`),
    `  cross-checks        ${fixed(w.rowsReportedByStatements, 2)} rows reported by the statements; ${fixed(w.databaseRows, 2)} in pg_stat_database (system catalogs included)`,
    `  left for the purge  ${fixed(w.rowsLeftForPurge, 2)} rows in oidc_payloads, deleted once expired`,
    `  statements          ${fixed(w.statements, 2)}  (${verbs}); transactions ${fixed(w.transactions, 2)}`,
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
