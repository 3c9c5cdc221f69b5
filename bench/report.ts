// The results: a table for people, JSON for machines.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { PROJECT_ROOT } from '../src/paths.js';
import { REQUESTS_PER_BARE_FEDERATED_SIGN_IN } from './driver/bare-federated-sign-in.js';
import { REQUESTS_PER_FAPI2_SIGN_IN, REQUESTS_PER_STANDARD_SIGN_IN_WITH_USERINFO } from './driver/fapi2-sign-in.js';
import { REQUESTS_PER_FEDERATED_SIGN_IN } from './driver/federated-sign-in.js';
import { REQUESTS_PER_SIGN_IN } from './driver/sign-in.js';
import { REQUESTS_PER_SSO_SIGN_IN } from './driver/sso-sign-in.js';
import type { ComparedScenario, CrossDevicePoll, Measurement } from './protocol.js';
import type { BenchSettings } from './settings.js';
import type { Memory } from './system.js';
import type { WritesPerSignIn } from './writes.js';

/** One provider's measurement, with the CPU milliseconds per operation of each of its processes. */
export interface Side extends Measurement {
  /** nixa: process, database (its PostgreSQL backends), and source when federated; bare: process, and upstream when federated. */
  cpuMsPerOp: Record<string, number>;
}

/** nixa's side also counts what it asked of PostgreSQL, per operation. */
export interface NixaSide extends Side {
  statementsPerOperation: number;
  commitsPerOperation: number;
  /** Statements per operation by table (StatementCounts.byTable), then verb. */
  statementsByTable: Record<string, Record<string, number>>;
  /** Commits per operation by what was committed (StatementCounts.commitsByTable). */
  commitsByTable: Record<string, number>;
}

export interface Ratio {
  /** nixa / bare, operations per second. */
  throughput: number;
  p50: number;
  p99: number;
  /** nixa's CPU per op (process + database) / the bare provider's (process). */
  cpu: number;
}

export interface ScenarioResult {
  scenario: ComparedScenario;
  /** Connections (single requests) or concurrent users (loops). */
  concurrency: number;
  nixa: NixaSide;
  baseline: Side;
  ratio: Ratio;
}

/**
 * nixa's federated sign-in through the simulated citizen-ID source, against the
 * fair federated baseline: a bare provider federating to a bare upstream. The
 * upstreams' CPU is reported apart and left out of the ratio.
 */
export interface FederatedLevel {
  concurrency: number;
  nixa: NixaSide;
  baseline: Side;
  ratio: Ratio;
}

export interface FederatedResult {
  source: string;
  citizens: number;
  requestsPerSignIn: { nixa: number; baseline: number };
  levels: FederatedLevel[];
}

/**
 * The cross-device sign-in at one number of concurrent citizens and one way of
 * polling. nixa alone: the bare provider has no phones to compare with. p50 and
 * p99 are of the time from the phone's approval to the computer continuing;
 * rate, CPU and statements are per whole cross-device sign-in (both screens).
 */
export interface CrossDeviceLevel {
  concurrency: number;
  poll: CrossDevicePoll;
  nixa: NixaSide;
}

export interface CrossDeviceResult {
  /** How often the computer's waiting page polls (POLL_MILLISECONDS). */
  pollMilliseconds: number;
  /** Citizens the loops' phones are bound to (loop i: citizens[i % citizens]). */
  citizens: number;
  levels: CrossDeviceLevel[];
}

/**
 * The FAPI 2.0 sign-in (issue 15) against the standard one, both on the same nixa
 * in the same run, by the same returning accounts at the same concurrency, each
 * followed by one userinfo call: the ratio is what PAR, DPoP and private_key_jwt
 * cost (and the profile's ES256 ID token in place of the web client's RS256).
 */
export interface Fapi2Result {
  concurrency: number;
  requestsPerSignIn: { standard: number; fapi2: number };
  /** The ID token's signing algorithm of each service. */
  idTokenAlgs: { standard: string; fapi2: string };
  /** The test-login sign-in (client_secret_basic, Bearer) and a Bearer userinfo call. */
  standard: NixaSide;
  /** PAR, the test login, /token with private_key_jwt and a DPoP proof, userinfo with a DPoP proof. */
  fapi2: NixaSide;
  /** FAPI 2.0 / standard; cpu: nixa's process and database on both sides. */
  ratio: Ratio;
}

export function fapi2Ratio(fapi2: NixaSide, standard: NixaSide): Ratio {
  return {
    throughput: fapi2.perSecond / standard.perSecond,
    p50: fapi2.p50Ms / standard.p50Ms,
    p99: fapi2.p99Ms / standard.p99Ms,
    cpu: nixaCpu(fapi2) / nixaCpu(standard),
  };
}
import type { TokenSigningRow } from './token-signing.js';

export interface BenchResults {
  finishedAt: string;
  environment: { node: string; postgres: string; cpus: number; store: BenchSettings['store'] };
  settings: BenchSettings;
  scenarios: ScenarioResult[];
  federated: FederatedResult;
  /** The test-login round trip (authorization_code). */
  writesPerSignIn: WritesPerSignIn;
  writesPerFederatedSignIn: WritesPerSignIn;
  /** Absent from results written before issue 13. */
  crossDevice?: CrossDeviceResult;
  /** Absent from results written before issue 15. */
  fapi2?: Fapi2Result;
  /** nixa's process at the end of the run (VmRSS, VmHWM); the issue's bound is 250 MB per instance. */
  nixaMemory?: Memory;
  /** Software vs SoftHSM2 signing (bench/token-signing.ts); absent without SoftHSM2 and in results before issue 15. */
  tokenSigning?: { seconds: number; rows: TokenSigningRow[] };
}

const TITLES: Record<ComparedScenario, string> = {
  discovery: 'discovery',
  jwks: 'JWKS',
  client_credentials: 'client_credentials',
  authorization_code: `test-login sign-in (${REQUESTS_PER_SIGN_IN} req)`,
  sso_sign_in: `SSO sign-in (${REQUESTS_PER_SSO_SIGN_IN} req)`,
  refresh: 'refresh with rotation',
  userinfo: 'userinfo',
  introspection: 'introspection',
};

const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const rate = (n: number) => (!Number.isFinite(n) ? '-' : n >= 1000 ? `${(n / 1000).toFixed(2)}k` : n.toFixed(n >= 100 ? 0 : 1));
const times = (n: number) => `${fixed(n, 2)}×`;

/** nixa's own CPU per op: its process and its database backends (an identity source's left out). */
export const nixaCpu = (s: Side) => (s.cpuMsPerOp.process ?? 0) + (s.cpuMsPerOp.database ?? 0);

export function ratioOf(nixa: Side, bare: Side): Ratio {
  return {
    throughput: nixa.perSecond / bare.perSecond,
    p50: nixa.p50Ms / bare.p50Ms,
    p99: nixa.p99Ms / bare.p99Ms,
    cpu: nixaCpu(nixa) / (bare.cpuMsPerOp.process ?? Number.NaN),
  };
}

const COLUMNS: [string, number][] = [
  ['scenario', 30],
  ['conc', 5],
  ['bare/s', 8],
  ['nixa/s', 8],
  ['rate', 7],
  ['CPU ms/op bare', 16],
  ['nixa proc+db', 19],
  ['CPU', 7],
  ['p50 ms bare/nixa', 18],
  ['p99 ms bare/nixa', 18],
  ['stmts', 7],
  ['commits', 8],
];

function row(cells: string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(COLUMNS[i]![1]) : c.padStart(COLUMNS[i]![1]))).join('').trimEnd();
}

function line(title: string, concurrency: number, nixa: NixaSide, bare: Side, ratio: Ratio): string {
  return row([
    title,
    String(concurrency),
    rate(bare.perSecond),
    rate(nixa.perSecond),
    times(ratio.throughput),
    fixed(bare.cpuMsPerOp.process ?? Number.NaN, 3),
    `${fixed(nixaCpu(nixa), 3)} (${fixed(nixa.cpuMsPerOp.database ?? 0, 2)} db)`,
    times(ratio.cpu),
    `${fixed(bare.p50Ms, 2)}/${fixed(nixa.p50Ms, 2)}`,
    `${fixed(bare.p99Ms, 1)}/${fixed(nixa.p99Ms, 1)}`,
    fixed(nixa.statementsPerOperation, 2),
    fixed(nixa.commitsPerOperation, 2),
  ]);
}

/** The level the main table shows: the given concurrency if measured, else the nearest. */
export function mainLevel(f: FederatedResult, concurrency: number): FederatedLevel | undefined {
  return [...f.levels].sort((a, b) => Math.abs(a.concurrency - concurrency) - Math.abs(b.concurrency - concurrency))[0];
}

export function formatTable(scenarios: ScenarioResult[], federated: FederatedResult, settings: BenchSettings): string {
  const header = row(COLUMNS.map(([name]) => name));
  const lines = [header, '-'.repeat(header.length)];
  for (const s of scenarios) lines.push(line(TITLES[s.scenario], s.concurrency, s.nixa, s.baseline, s.ratio));
  const main = mainLevel(federated, settings.signInLoops);
  if (main) lines.push(line(`federated sign-in (${federated.requestsPerSignIn.nixa}/${federated.requestsPerSignIn.baseline} req)`, main.concurrency, main.nixa, main.baseline, main.ratio));
  lines.push(
    '',
    'bare: a bare oidc-provider 9 with its in-memory adapter, set up like nixa (same driver, scopes, ES256, rotation, introspection).',
    'An op is one request, or one whole sign-in (SSO: /auth straight back with a code, then /token; refresh: one rotation).',
    'rate and CPU: nixa / bare. CPU per op from /proc/<pid>/stat of each server process; nixa adds its PostgreSQL backends (db).',
    "stmts, commits: nixa's SQL statements and commits (COMMITs plus autocommit writes) per op.",
    `nixa's short-lived store: NIXA_SHORT_LIVED_STORE=${settings.store}.`,
  );
  return lines.join('\n');
}

export function formatFederated(f: FederatedResult): string {
  const header = row(COLUMNS.map(([name]) => name));
  const lines = [
    `Federated sign-in by concurrent users: nixa through the simulated citizen-ID source ${f.source} (${f.requestsPerSignIn.nixa} requests,`,
    `${f.citizens} returning citizens, consent remembered) vs. a bare provider federating with openid-client (code + PKCE) to a bare`,
    `upstream that signs the picked citizen in (${f.requestsPerSignIn.baseline} requests). Every server in its own process; the upstreams' CPU`,
    "is left out of the ratio and shown apart (source / upstream, ms per sign-in).",
    header,
    '-'.repeat(header.length),
  ];
  for (const l of f.levels) {
    lines.push(
      `${line('federated sign-in', l.concurrency, l.nixa, l.baseline, l.ratio)}   upstream CPU ${fixed(l.nixa.cpuMsPerOp.source ?? Number.NaN, 2)} / ${fixed(l.baseline.cpuMsPerOp.upstream ?? Number.NaN, 2)}`,
    );
  }
  return lines.join('\n');
}

const CROSS_DEVICE_COLUMNS: [string, number][] = [
  ['computer polls', 16],
  ['conc', 5],
  ['sign-ins/s', 11],
  ['n', 6],
  ['approval→continue p50 ms', 26],
  ['p99 ms', 9],
  ['CPU ms/op proc+db', 21],
  ['stmts', 7],
  ['commits', 8],
];

function crossDeviceRow(cells: string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(CROSS_DEVICE_COLUMNS[i]![1]) : c.padStart(CROSS_DEVICE_COLUMNS[i]![1]))).join('').trimEnd();
}

/** The way of polling as the table names it. */
export const pollTitle = (poll: CrossDevicePoll, intervalMs: number) => (poll === 'page' ? `every ${intervalMs} ms` : 'at once');

export function formatCrossDevice(r: CrossDeviceResult): string {
  const header = crossDeviceRow(CROSS_DEVICE_COLUMNS.map(([name]) => name));
  const lines = [
    `Cross-device sign-in (issue 13): from the phone's approval (its approve POST answered) to the computer continuing (its finish POST`,
    `and the resume answered with the redirect to the service). Each concurrent citizen has a phone bound at /account (${r.citizens} citizens;`,
    'a software passkey with user verification) and signs in on a fresh computer: chooser, QR page, the phone opens the link, picks',
    `the number, approves. "every ${r.pollMilliseconds} ms": the waiting page's polling (views/cross-device.js), the phone approving at a random`,
    `moment of its cycle, as a citizen's does: the delay a citizen sees. "at once": one status request as soon as the approval is`,
    "answered, the sign-ins back to back: nixa's own part. n: sign-ins measured. CPU, statements and commits per whole sign-in (both",
    "screens, the polls included), nixa's process plus its PostgreSQL backends.",
    header,
    '-'.repeat(header.length),
  ];
  for (const l of r.levels) {
    lines.push(
      crossDeviceRow([
        pollTitle(l.poll, r.pollMilliseconds),
        String(l.concurrency),
        rate(l.nixa.perSecond),
        String(l.nixa.completed),
        fixed(l.nixa.p50Ms, 1),
        fixed(l.nixa.p99Ms, 1),
        `${fixed(nixaCpu(l.nixa), 2)} (${fixed(l.nixa.cpuMsPerOp.database ?? 0, 2)} db)`,
        fixed(l.nixa.statementsPerOperation, 2),
        fixed(l.nixa.commitsPerOperation, 2),
      ]),
    );
  }
  return lines.join('\n');
}

const FAPI2_COLUMNS: [string, number][] = [
  ['sign-in', 12],
  ['conc', 5],
  ['requests', 9],
  ['sign-ins/s', 11],
  ['p50 ms', 9],
  ['p99 ms', 9],
  ['CPU ms/op proc+db', 21],
  ['stmts', 7],
  ['commits', 8],
];

function fapi2Row(cells: string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(FAPI2_COLUMNS[i]![1]) : c.padStart(FAPI2_COLUMNS[i]![1]))).join('').trimEnd();
}

export function formatFapi2(r: Fapi2Result): string {
  const header = fapi2Row(FAPI2_COLUMNS.map(([name]) => name));
  const cpu = (s: NixaSide) => `${fixed(nixaCpu(s), 2)} (${fixed(s.cpuMsPerOp.database ?? 0, 2)} db)`;
  const side = (title: string, requests: number, s: NixaSide) =>
    fapi2Row([title, String(r.concurrency), String(requests), rate(s.perSecond), fixed(s.p50Ms, 1), fixed(s.p99Ms, 1), cpu(s), fixed(s.statementsPerOperation, 2), fixed(s.commitsPerOperation, 2)]);
  return [
    "FAPI 2.0 sign-in (issue 15) against the standard one, on the same nixa in this run, by the same returning accounts, each with",
    `one userinfo call. standard: the test-login sign-in with client_secret_basic and a Bearer token (ID token ${r.idTokenAlgs.standard}).`,
    `FAPI 2.0: a service registered fapi2 with openid-client: the pushed request (PAR), the same test login, /token with`,
    `private_key_jwt and a DPoP proof, userinfo with a DPoP proof (ID token ${r.idTokenAlgs.fapi2}). CPU, statements and commits per whole`,
    "sign-in, nixa's process plus its PostgreSQL backends.",
    header,
    '-'.repeat(header.length),
    side('standard', r.requestsPerSignIn.standard, r.standard),
    side('FAPI 2.0', r.requestsPerSignIn.fapi2, r.fapi2),
    '',
    `FAPI 2.0 / standard: rate ${times(r.ratio.throughput)}, CPU per sign-in ${times(r.ratio.cpu)} ` +
      `(process ${fixed(r.standard.cpuMsPerOp.process ?? Number.NaN, 2)} → ${fixed(r.fapi2.cpuMsPerOp.process ?? Number.NaN, 2)} ms, ` +
      `database ${fixed(r.standard.cpuMsPerOp.database ?? 0, 2)} → ${fixed(r.fapi2.cpuMsPerOp.database ?? 0, 2)} ms), ` +
      `p50 ${times(r.ratio.p50)}, p99 ${times(r.ratio.p99)}.`,
  ].join('\n');
}

const perVerb = (byVerb: Record<string, number>) =>
  Object.entries(byVerb)
    .filter(([, n]) => n > 0.005)
    .sort(([, a], [, b]) => b - a)
    .map(([verb, n]) => `${verb} ${fixed(n, 2)}`)
    .join(', ');
const sum = (byVerb: Record<string, number>) => Object.values(byVerb).reduce((a, b) => a + b, 0);

/** Statements and commits per op by table, one block per scenario that sent any. */
export function formatPerTable(rows: { title: string; nixa: NixaSide }[]): string {
  const lines = ["nixa's statements and commits per op, by table (oidc-provider's models apart):"];
  for (const { title, nixa } of rows) {
    if (nixa.statementsPerOperation < 0.005) {
      lines.push(`  ${title}: none`);
      continue;
    }
    lines.push(`  ${title}: ${fixed(nixa.statementsPerOperation, 2)} statements, ${fixed(nixa.commitsPerOperation, 2)} commits`);
    const byTable = Object.entries(nixa.statementsByTable)
      .filter(([, v]) => sum(v) > 0.005)
      .sort(([, a], [, b]) => sum(b) - sum(a));
    for (const [table, verbs] of byTable) lines.push(`    ${table.padEnd(40)}${fixed(sum(verbs), 2).padStart(6)}  (${perVerb(verbs)})`);
    const commits = Object.entries(nixa.commitsByTable).filter(([, n]) => n > 0.005).sort(([, a], [, b]) => b - a);
    if (commits.length) lines.push(`    commits: ${commits.map(([what, n]) => `${what} ${fixed(n, 2)}`).join('; ')}`);
  }
  return lines.join('\n');
}

const TITLE: Record<WritesPerSignIn['scenario'], (n: number) => string> = {
  authorization_code: (n) => `Database writes per test-login sign-in (nixa, ${n} sign-ins by returning accounts):`,
  sso_sign_in: (n) => `Database writes per SSO sign-in (nixa, ${n} sign-ins):`,
  federated_sign_in: (n) => `Database writes per federated sign-in (nixa, ${n} sign-ins by returning citizens through the citizen-ID source, consent remembered):`,
};

export function formatWrites(w: WritesPerSignIn): string {
  const counts = (r: { inserted: number; updated: number; deleted: number }) =>
    `inserted ${fixed(r.inserted, 2)}, updated ${fixed(r.updated, 2)}, deleted ${fixed(r.deleted, 2)}`;
  const byTable = Object.entries(w.statementsByTable).sort(([, a], [, b]) => sum(b) - sum(a));
  return [
    TITLE[w.scenario](w.signIns),
    `  rows written        ${fixed(w.rows.total, 2)}  (${counts(w.rows)}; pg_stat_user_tables)`,
    ...Object.entries(w.tables).map(([table, t]) => `    ${table.padEnd(20)}${counts(t)}; HOT updates ${fixed(t.hotUpdated, 2)}`),
    `  cross-checks        ${fixed(w.rowsReportedByStatements, 2)} rows reported by the statements; ${fixed(w.databaseRows, 2)} in pg_stat_database (system catalogs included)`,
    `  left for the purge  ${fixed(w.rowsLeftForPurge, 2)} rows (${Object.entries(w.rowsLeftForPurgeByTable).map(([t, n]) => `${t} ${fixed(n, 2)}`).join(', ')}), deleted once expired`,
    `  statements          ${fixed(w.statements, 2)}  (${perVerb(w.statementsByVerb)}); transactions ${fixed(w.transactions, 2)}`,
    `  commits             ${fixed(w.commits, 2)}  (${Object.entries(w.commitsByTable).sort(([, a], [, b]) => b - a).map(([what, n]) => `${what} ${fixed(n, 2)}`).join('; ')})`,
    '  statements by table (oidc-provider models apart)',
    ...byTable.map(([table, v]) => `    ${table.padEnd(34)}${fixed(sum(v), 2).padStart(6)}  (${perVerb(v)})`),
    ...(w.sourceRequests ? [`  at the source       ${fixed(sum(w.sourceRequests), 2)} requests  (${perVerb(w.sourceRequests)})`] : []),
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

export { REQUESTS_PER_BARE_FEDERATED_SIGN_IN, REQUESTS_PER_FAPI2_SIGN_IN, REQUESTS_PER_FEDERATED_SIGN_IN, REQUESTS_PER_STANDARD_SIGN_IN_WITH_USERINFO };
