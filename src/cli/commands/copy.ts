import type { Command } from 'commander';
import { cloneTenant, validateCloneOptions } from '../../tenants/clone.js';
import { copyRows, moveRows, validateTransferOptions } from '../../copy/index.js';
import type { CloneOptions, TransferOptions, TransferResult } from '../../index.js';
import type { Outcome } from '../outcome.js';
import { listOf } from '../parse.js';
import type { CommandEnv, Registrars, RunFn as Run } from '../run.js';
import { table } from '../table.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The JSON document: the documented fields first, then the rest of the result. */
function json(r: TransferResult): Record<string, unknown> {
  const { from, to, tables, rows, ...rest } = r;
  return { from, to, tables, rows, ...rest };
}

function human(env: CommandEnv, r: TransferResult, verb: string): string[] {
  const { c } = env;
  if (r.status === 'failed') return [];
  const move = r.operation === 'move';
  const skip = r.onConflict === 'skip' && !r.dryRun;
  const headers = [
    'table',
    'rows',
    ...(move ? ['deleted'] : []),
    ...(skip ? ['skipped'] : []),
    ...(r.tables.some((t) => t.parents) ? ['parents'] : []),
    ...(r.dryRun ? ['conflicts'] : []),
  ];
  const rows = r.tables.map((t) => [
    t.table,
    t.rows,
    ...(move ? [t.deleted ?? 0] : []),
    ...(skip ? [t.skipped ?? 0] : []),
    ...(headers.includes('parents') ? [t.parents ?? 0] : []),
    ...(r.dryRun ? [t.conflicts ?? 0] : []),
  ]);
  const cycles = r.cycles.filter((g) => g.length > 1).map((g) => `cycle ${g.join(' <-> ')}: written in one statement`);
  const summary = r.dryRun
    ? `dry run: would ${verb} ${plural(r.rows, 'row')} from ${r.from} to ${r.to}${move ? ` (${r.deleted ?? 0} deleted from ${r.from})` : ''}, tables in this order; nothing changed`
    : `${c.green(`${verb === 'copy' ? 'copied' : verb === 'move' ? 'moved' : 'cloned'}`)} ${plural(r.rows, 'row')} from ${r.from} to ${r.to}` +
      (move ? ` (${r.deleted ?? 0} deleted from ${r.from})` : '');
  const conflicted = r.dryRun ? r.tables.reduce((a, t) => a + (t.conflicts ?? 0), 0) : 0;
  return [
    ...(rows.length ? table(headers, rows) : []),
    ...cycles,
    ...(conflicted > 0 && r.onConflict === 'error'
      ? [
          c.yellow(
            `${plural(conflicted, 'row')} would collide with rows of ${r.to}: the run would fail; see --on-conflict and --remap-keys`,
          ),
        ]
      : []),
    summary,
  ];
}

function outcome(env: CommandEnv, r: TransferResult, verb: string): Outcome {
  const errors = r.status === 'failed' ? [`${r.from} -> ${r.to}: ${r.error?.message ?? ''}`] : [];
  return { json: json(r), human: human(env, r, verb), errors, exitCode: r.status === 'failed' ? 1 : 0 };
}

function transferCommand(program: Command, run: Run, name: 'copy' | 'move', description: string): void {
  program
    .command(name)
    .description(description)
    .requiredOption('--from <id>', 'source tenant')
    .requiredOption('--to <id>', 'target tenant')
    .option('--table <name...>', 'only these tables (rows that reference them come along, and parents they need)', listOf('--table'))
    .option('--where <sql>', 'only rows of the --table tables matching this condition (source tenant on the search_path)')
    .option('--on-conflict <mode>', 'rows whose key exists in the target: error (default), skip or update', 'error')
    .option('--remap-keys', "give copied rows new keys from the target's sequences, rewriting references to them")
    .option('--dry-run', 'print the plan (tables, order, row counts, conflicts); change nothing')
    .action((opts, cmd: Command) => {
      const options: TransferOptions = {
        from: opts.from,
        to: opts.to,
        tables: opts.table,
        where: opts.where,
        onConflict: opts.onConflict,
        remapKeys: opts.remapKeys,
        dryRun: opts.dryRun,
      };
      return run(
        cmd,
        async (tc, env) => {
          env.progress.start(`${name === 'copy' ? 'copying' : 'moving'} rows from ${opts.from} to ${opts.to}`);
          const r = name === 'copy' ? await copyRows(tc, options) : await moveRows(tc, options);
          return outcome(env, r, name);
        },
        { validate: () => void validateTransferOptions(options) },
      );
    });
}

/** copy, move and tenant clone. */
export function registerCopyCommands(program: Command, { run }: Registrars): void {
  transferCommand(
    program,
    run,
    'copy',
    'copy rows into another tenant, ownership column rewritten to its key, in foreign-key order; one transaction',
  );
  transferCommand(program, run, 'move', 'copy rows into another tenant, then delete them from the source; one transaction');
}

export function registerCloneCommand(program: Command, { run }: Registrars): void {
  const tenant = program.commands.find((c) => c.name() === 'tenant');
  if (!tenant) throw new Error('the tenant command must be registered before clone');
  tenant
    .command('clone')
    .description("new tenant with SRC's migrations and, unless --schema-only, a copy of all its rows; one transaction")
    .argument('<src>', 'tenant to clone')
    .argument('<new>', 'id of the new tenant')
    .option('--schema-only', 'structure only, no rows')
    .option('--key <value>', "the new tenant's key (default: its id)")
    .option('--name <text>', 'display name of the new tenant')
    .option('--dry-run', 'say what would be created and copied; change nothing')
    .action((src: string, id: string, opts, cmd: Command) => {
      const options: CloneOptions = { from: src, to: id, schemaOnly: opts.schemaOnly, key: opts.key, name: opts.name, dryRun: opts.dryRun };
      return run(
        cmd,
        async (tc, env) => {
          env.progress.start(`cloning ${src} to ${id}`);
          const r = await cloneTenant(tc, options);
          const o = outcome(env, r, 'clone');
          if (r.status !== 'failed') {
            const what = `${plural(r.migrations.length, 'migration')}${r.schemaOnly ? ', schema only' : ''}`;
            o.human.push(
              r.dryRun ? `would create tenant ${id} (schema ${r.schema}, ${what})` : `created tenant ${id} (schema ${r.schema}, ${what})`,
            );
          }
          return o;
        },
        { validate: () => validateCloneOptions(options) },
      );
    });
}
