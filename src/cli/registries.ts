// `nixa registries …`: organisation registries (the business register nixa asks
// whom a person may act for), registered from JSON, disabled until a connection
// test passes, changed and disabled with a reason, as `nixa sources` does.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import type { Command } from 'commander';

import { checkReason } from '../audit/index.js';
import { InvalidInputError } from '../errors/index.js';
import { KeyRing } from '../keys/index.js';
import { silentLogger } from '../logging/index.js';
import {
  addRegistry,
  changeRegistry,
  checkRegistry,
  disableRegistry,
  enableRegistry,
  getRegistry,
  listRegistries,
  registriesOptions,
  RegistryUnavailableError,
  viewRegistry,
  type OrganisationRegistry,
  type RegistryCheck,
} from '../registries/index.js';
import type { CliContext, CliIo } from './commands.js';

const REASON = ['--reason <text>', 'why, in at least 10 characters (required; kept in the audit trail)'] as const;
const reasonOf = (o: { reason?: string }) => checkReason(o.reason, '--reason');

function readJson(ctx: CliContext, path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : resolve(ctx.cwd ?? process.cwd(), path), 'utf8');
  } catch (err) {
    throw new InvalidInputError('--from-json', `cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidInputError('--from-json', `${path} is not valid JSON`);
  }
}

const describe = (r: OrganisationRegistry) =>
  [
    `id:        ${r.id} (${r.kind})`,
    `name:      ${r.name.vi} / ${r.name.en}`,
    `status:    ${r.enabled ? 'enabled' : 'disabled'}; health ${r.health.status}${r.health.error ? ` (${r.health.error})` : ''}`,
    `issuer:    ${r.issuer}`,
    `api:       ${r.apiUrl}`,
    `client:    ${r.clientId} (${r.authMethod}${r.clientSecret !== undefined ? ', secret stored encrypted' : ''})`,
    `timeout:   ${r.timeoutMs} ms`,
    `version:   ${r.version}`,
  ].join('\n') + '\n';

function table(rows: Record<string, string>[]): string {
  if (!rows.length) return '(none)\n';
  const cols = Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((v, i) => v.padEnd(width[i]!)).join('  ').trimEnd();
  return `${[line(cols), ...rows.map((r) => line(cols.map((c) => r[c] ?? '')))].join('\n')}\n`;
}

/** A failed connection test: exit 1 with the check's own words (RegistryUnavailableError is a nixa error, status 503). */
function testFailed(r: OrganisationRegistry, check: RegistryCheck): RegistryUnavailableError {
  const failed = check.steps.find((s) => s.status === 'fail')?.name;
  const reason = failed === 'credentials' ? 'misconfigured' : failed === 'discovery' ? 'discovery' : 'token-refused';
  return new RegistryUnavailableError([{ registry: r.id, reason, detail: 'its connection test failed (see FAIL lines)' }]);
}

export function registerRegistryCommands(program: Command, io: CliIo, ctx: CliContext): void {
  const opts = () => registriesOptions(ctx.config);
  const test = async (r: OrganisationRegistry): Promise<RegistryCheck> => {
    // nixa's signing keys are read only for a registry that authenticates nixa by private_key_jwt.
    if (r.authMethod !== 'private_key_jwt') return checkRegistry(r, { signingKeys: () => [] });
    // Signers, not private JWKs: with an HSM the key ring's token signs the assertion, then closes.
    const keyring = new KeyRing(await ctx.db(), ctx.cipher(), ctx.config, silentLogger);
    try {
      await keyring.refresh();
      const signers = keyring.snapshot.signers;
      return await checkRegistry(r, { signingKeys: () => signers });
    } finally {
      await keyring.stop();
    }
  };
  const printCheck = (check: RegistryCheck) => {
    const mark = { ok: 'ok  ', warning: 'WARN', fail: 'FAIL' } as const;
    for (const s of check.steps) io.out(`${mark[s.status]}  ${s.name.padEnd(11)} ${s.detail}\n`);
    io.out(check.ok ? 'registry reachable; nixa is given a token\n' : 'registry has problems (see FAIL lines)\n');
  };

  const registries = program.command('registries').description('organisation registries nixa asks which organisations a person may act for');

  registries
    .command('add')
    .description('register an organisation registry from a JSON registration (see README), disabled until `registries enable` tests it')
    .requiredOption('--from-json <path>', 'the registration as JSON ("-" for stdin)')
    .option(...REASON)
    .option('--json', 'print the result as JSON')
    .action(async (o: { fromJson: string; reason?: string; json?: boolean }) => {
      const reason = reasonOf(o);
      const registration = readJson(ctx, o.fromJson);
      if (registration && typeof registration === 'object' && (registration as Record<string, unknown>).enabled === true) {
        throw new InvalidInputError('enabled', 'a registry is registered disabled; enable it with `nixa registries enable ID --reason …` once its connection test passes');
      }
      const r = await addRegistry(await ctx.db(), ctx.cipher(), { ...(registration as object), enabled: false }, ctx.actor, { ...opts(), reason });
      if (o.json) return io.out(`${JSON.stringify(viewRegistry(r), null, 2)}\n`);
      io.out(describe(r));
      io.out(`registered ${r.id}, disabled. Next: nixa registries test ${r.id}, then nixa registries enable ${r.id} --reason …\n`);
    });

  registries
    .command('list')
    .description('list organisation registries')
    .option('--json', 'print as JSON')
    .action(async (o: { json?: boolean }) => {
      const list = await listRegistries(await ctx.db(), ctx.cipher());
      if (o.json) return io.out(`${JSON.stringify(list.map(viewRegistry), null, 2)}\n`);
      io.out(table(list.map((r) => ({ ID: r.id, KIND: r.kind, NAME: r.name.vi, STATUS: r.enabled ? 'enabled' : 'disabled', HEALTH: r.health.status, VERSION: String(r.version) }))));
    });

  registries
    .command('show <id>')
    .description('show one organisation registry (never its secret)')
    .option('--json', 'print as JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const r = await getRegistry(await ctx.db(), ctx.cipher(), id);
      io.out(o.json ? `${JSON.stringify(viewRegistry(r), null, 2)}\n` : describe(r));
    });

  registries
    .command('update <id>')
    .description('change fields of an organisation registry (enable with `registries enable`, which tests it first)')
    .requiredOption('--from-json <path>', 'the fields to change, as JSON')
    .option('--if-version <n>', 'refuse if the registry changed since you read this version', (v) => Number(v))
    .option(...REASON)
    .action(async (id: string, o: { fromJson: string; ifVersion?: number; reason?: string }) => {
      const reason = reasonOf(o);
      const patch = readJson(ctx, o.fromJson) as Record<string, unknown>;
      if (!patch || typeof patch !== 'object' || Array.isArray(patch) || !Object.keys(patch).length) throw new InvalidInputError('--from-json', 'give an object with at least one field to change');
      if (patch.enabled === true) throw new InvalidInputError('enabled', `use nixa registries enable ${id} --reason …, which enables it only once its connection test passes`);
      const { registry, changed } = await changeRegistry(await ctx.db(), ctx.cipher(), id, patch, ctx.actor, {
        ...opts(),
        reason,
        ...(o.ifVersion !== undefined ? { expectedVersion: o.ifVersion } : {}),
      });
      io.out(describe(registry));
      if (!changed.length) io.out('nothing changed: every field already had that value\n');
    });

  registries
    .command('enable <id>')
    .description('test the registry (metadata and token), and ask it at sign-in only if the test passes (exit 1 otherwise)')
    .option('--if-version <n>', 'refuse if the registry changed since you read this version', (v) => Number(v))
    .option(...REASON)
    .action(async (id: string, o: { ifVersion?: number; reason?: string }) => {
      const result = await enableRegistry(await ctx.db(), ctx.cipher(), id, ctx.actor, {
        ...opts(),
        reason: reasonOf(o),
        ...(o.ifVersion !== undefined ? { expectedVersion: o.ifVersion } : {}),
        test,
      });
      if (result.check) printCheck(result.check);
      if (result.outcome === 'test-failed') {
        io.err(`nixa: ${id} stays disabled; fix the registration, then run: nixa registries enable ${id} --reason …\n`);
        throw testFailed(result.registry, result.check);
      }
      io.out(result.outcome === 'enabled' ? `enabled ${id}: sign-ins ask it\n` : `${id} was already enabled; nothing changed\n`);
    });

  registries
    .command('disable <id>')
    .description('stop asking an organisation registry')
    .option(...REASON)
    .action(async (id: string, o: { reason?: string }) => {
      const { changed } = await disableRegistry(await ctx.db(), ctx.cipher(), id, ctx.actor, { ...opts(), reason: reasonOf(o) });
      io.out(changed.length ? `disabled ${id}\n` : `${id} was already disabled; nothing changed\n`);
    });

  registries
    .command('test <id>')
    .description('fetch the issuer\'s metadata and ask its token endpoint for a token as nixa; exit 1 if a check fails')
    .action(async (id: string) => {
      const r = await getRegistry(await ctx.db(), ctx.cipher(), id);
      const check = await test(r);
      printCheck(check);
      if (!check.ok) throw testFailed(r, check);
    });
}
