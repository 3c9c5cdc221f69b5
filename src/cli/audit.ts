// `nixa audit …`: verify the chain, sign a checkpoint, export, list partitions,
// and remove old months under the retention rules (src/audit/retention.ts).
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';

import type { Command } from 'commander';

import {
  createCheckpoint,
  exportTrail,
  listPartitions,
  parseMonth,
  partitionsAhead,
  prunePartitions,
  recordExport,
  verifyTrail,
  type VerifyReport,
} from '../audit/index.js';
import { InvalidInputError } from '../errors/index.js';
import { activeSigner, withKeyStore } from '../keys/index.js';
import type { CliContext, CliIo } from './commands.js';

/** The trail did not verify: exit 1, the report already says why. */
export class AuditTrailBroken extends Error {}

/** A date (2025-01-31, midnight UTC) or an ISO 8601 time with its offset; the error names the option. */
export function parseTime(value: string, option: string): Date {
  const expected = `a date like 2025-01-31 or a time like 2025-01-31T08:00:00+07:00, got "${value}"`;
  const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (dateOnly) {
    const d = new Date(Date.UTC(Number(dateOnly[1]), Number(dateOnly[2]) - 1, Number(dateOnly[3])));
    if (d.toISOString().slice(0, 10) !== value) throw new InvalidInputError(option, expected);
    return d;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) throw new InvalidInputError(option, expected);
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new InvalidInputError(option, expected);
  return d;
}

function describeReport(r: VerifyReport): string {
  const lines: string[] = [];
  const range = r.firstSeq === null ? 'no events' : `${r.events} events, seq ${r.firstSeq}–${r.lastSeq}`;
  const cps = r.lastCheckpoint
    ? `${r.checkpoints} signed checkpoints, the last (#${r.lastCheckpoint.id}, ${r.lastCheckpoint.createdAt}) vouching for seq ${r.lastCheckpoint.seq}`
    : 'no signed checkpoint yet';
  if (r.ok) lines.push(`audit trail intact: ${range}; ${cps}`);
  else {
    lines.push(`audit trail BROKEN (${range} verified before the first problem; ${cps})`);
    for (const p of r.problems) lines.push(`  ${p.kind === 'checkpoint' ? 'checkpoint' : 'first broken link'}: ${p.message}`);
  }
  if (r.keys.length) {
    lines.push('checkpoint keys (an auditor compares these with nixa\'s /jwks, or a JWKS they archived):');
    for (const k of r.keys) {
      lines.push(`  ${k.kid}  jkt ${k.jkt}  ${k.checkpoints} checkpoint(s)  ${k.attestedBy ? `vouched for by the ${k.attestedBy}` : 'key deleted and not recorded in the trail: check it against an archived JWKS'}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function registerAuditCommands(program: Command, io: CliIo, ctx: CliContext): void {
  const audit = program.command('audit').description('the tamper-evident audit trail: verify, checkpoints, export, retention');

  audit
    .command('verify')
    .description('walk the hash chain and every signed checkpoint; exit 1 naming the first broken link')
    .option('--from <seq>', 'start at this seq, trusting its link to the one before')
    .option('--json', 'print the report as JSON')
    .action(async (o: { from?: string; json?: boolean }) => {
      let fromSeq: number | undefined;
      if (o.from !== undefined) {
        if (!/^\d+$/.test(o.from) || Number(o.from) < 1) throw new InvalidInputError('--from', `a seq number (1 or more), got "${o.from}"`);
        fromSeq = Number(o.from);
      }
      const report = await verifyTrail(await ctx.db(), fromSeq === undefined ? {} : { fromSeq });
      io.out(o.json ? `${JSON.stringify(report, null, 2)}\n` : describeReport(report));
      if (!report.ok) throw new AuditTrailBroken();
    });

  audit
    .command('checkpoint')
    .description('sign a checkpoint of the trail now with the active signing key (nixa also does it periodically)')
    .action(async () => {
      const db = await ctx.db();
      const alg = ctx.config.keys.signingAlgs[0]!;
      // With NIXA_KEY_BACKEND=pkcs11 the token signs; the key never comes out.
      const c = await withKeyStore(ctx.cipher(), ctx.config, async (store) => createCheckpoint(db, await activeSigner(db, store, alg), ctx.config.issuer));
      io.out(c ? `checkpoint ${c.id}: seq ${c.seq} hash ${c.hash}, signed with ${alg} key ${c.kid}\n` : 'no event since the last checkpoint: nothing to sign\n');
    });

  audit
    .command('export')
    .description('write the events (and checkpoints) between two times as JSON Lines, oldest first')
    .requiredOption('--from <time>', 'first instant, inclusive: 2025-01-01 (UTC) or 2025-01-01T00:00:00+07:00')
    .requiredOption('--to <time>', 'end, exclusive')
    .option('--out <file>', 'write to this new file (mode 0600) instead of standard output')
    .option('--reason <text>', 'why (kept in the audit trail with the export)')
    .action(async (o: { from: string; to: string; out?: string; reason?: string }) => {
      const from = parseTime(o.from, '--from');
      const to = parseTime(o.to, '--to');
      if (to <= from) throw new InvalidInputError('--to', `must be after --from (${from.toISOString()})`);
      const db = await ctx.db();
      let summary;
      if (o.out) {
        const path = resolve(ctx.cwd ?? process.cwd(), o.out);
        const file = createWriteStream(path, { flags: 'wx', mode: 0o600 });
        try {
          await once(file, 'open');
        } catch (err) {
          throw new InvalidInputError('--out', `cannot create ${path}: ${(err as Error).message}`);
        }
        try {
          summary = await exportTrail(db, { from, to }, async (text) => {
            if (!file.write(text)) await once(file, 'drain');
          });
        } finally {
          file.end();
          await once(file, 'close');
        }
        io.err(`exported ${summary.events} events and ${summary.checkpoints} checkpoints to ${path} (sha256 ${summary.sha256})\n`);
      } else {
        summary = await exportTrail(db, { from, to }, (text) => io.out(text));
      }
      await recordExport(db, summary, ctx.actor, o.reason);
    });

  audit
    .command('partitions')
    .description('list the month partitions (creating any missing ahead of time) and the events each holds')
    .option('--json', 'print as JSON')
    .action(async (o: { json?: boolean }) => {
      const db = await ctx.db();
      await partitionsAhead(db);
      const list = await listPartitions(db);
      if (o.json) {
        io.out(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      const rows = list.map((p) => `${p.name.padEnd(22)}  ${p.from.slice(0, 10)}  ${p.to.slice(0, 10)}  ${String(p.events).padStart(8)}  ${p.firstSeq === null ? '-' : `${p.firstSeq}–${p.lastSeq}`}`);
      io.out(`${['PARTITION'.padEnd(22), 'FROM      ', 'TO        ', '  EVENTS', 'SEQ'].join('  ')}\n${rows.join('\n')}\n`);
    });

  audit
    .command('prune')
    .description('remove whole months before --before, each at least 12 months old, checkpointed and exported (needs the owner role)')
    .requiredOption('--before <month>', 'remove months before this one, e.g. 2025-01')
    .requiredOption('--reason <text>', 'why, in at least 10 characters (kept in the audit trail)')
    .action(async (o: { before: string; reason: string }) => {
      const dropped = await prunePartitions(await ctx.db(), { before: parseMonth(o.before, '--before'), reason: o.reason, actor: ctx.actor });
      io.out(dropped.length ? `removed ${dropped.map((p) => `${p.name} (${p.events} events)`).join(', ')}\n` : 'no month to remove\n');
    });
}
