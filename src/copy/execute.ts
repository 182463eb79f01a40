import type { Context } from '../context.js';
import type { PoolClient } from '../db/types.js';
import { InputError } from '../errors.js';
import { SQLSTATE } from '../sqlstate.js';
import { isCitusUniqueViolation } from '../citus/refusals.js';
import { countConflicts, findConflicts } from './conflicts.js';
import { sourceCounts, stagedCounts } from './counts.js';
import { TransferFailure } from './failure.js';
import { markDeletable, markKept } from './mark-rows.js';
import type { TransferPlan } from './plan.js';
import { createMirrors } from './mirror.js';
import { fillMaps } from './remap.js';
import { advanceSequences } from './sequences.js';
import { actAs, catalogPath } from './snapshot.js';
import { analyzeStaging, bringParents, carryDependents, createStaging, seedSql } from './stage.js';
import type { OnConflict, TableCount } from './types.js';
import { deleteRows, writeRows } from './write.js';

export interface TenantSide {
  id: string;
  schema: string;
  key: string;
}

export interface ExecuteOptions {
  move: boolean;
  onConflict: OnConflict;
  where?: string;
  dryRun: boolean;
  source: TenantSide;
  target: TenantSide;
}

export interface Execution {
  tables: TableCount[];
  rows: number;
  deleted: number;
}

/**
 * Runs a plan inside the caller's open transaction: stage the selection,
 * draw new keys, write parents first, advance sequences, and for a move
 * delete children first. Every count is checked against what was staged
 * before the caller commits; a mismatch or a key conflict is a
 * TransferFailure and the caller rolls back.
 */
export async function executePlan(client: PoolClient, ctx: Context, plan: TransferPlan, o: ExecuteOptions): Promise<Execution> {
  const key = o.target.key;
  await createMirrors(client, plan, o.move ? 'move' : 'copy');
  if (plan.staged) {
    await createStaging(client, plan);
    await seed(client, ctx, plan, o);
    await carryDependents(client, plan);
    await bringParents(client, plan, key);
    await analyzeStaging(client, plan);
  }
  if (o.dryRun) return dryRun(client, plan, o);

  await fillMaps(client, plan);
  if (o.onConflict === 'skip') await markKept(client, plan, key);
  if (o.move && plan.staged) await markDeletable(client, plan, o.onConflict === 'skip');
  const staged = plan.staged ? await stagedCounts(client, plan) : undefined;

  await client.query('SAVEPOINT tc_write');
  let written: Map<string, number>;
  try {
    await actAs(client, ctx, o.target);
    written = await writeRows(client, plan, o.onConflict, key);
  } catch (err) {
    if ((err as { code?: string }).code !== SQLSTATE.UNIQUE_VIOLATION && !(plan.mirrored && isCitusUniqueViolation(err))) throw err;
    await client.query('ROLLBACK TO SAVEPOINT tc_write');
    await catalogPath(client);
    const all = await findConflicts(client, plan, key, { selection: plan.staged ? 'written' : 'none', maps: true });
    const conflicts =
      o.onConflict === 'update'
        ? all.filter((c) => !plan.target.tables.get(c.table)!.keys.find((k) => k.name === c.constraint)?.primary)
        : all;
    throw new TransferFailure('conflict', conflictMessage(conflicts, o, err), conflicts);
  }
  if (staged) {
    for (const [table, n] of written) {
      const s = staged.get(table)!;
      const expected = s.moved + s.parents - s.kept;
      if (n !== expected) mismatch(`wrote ${n} rows into ${o.target.id}.${table} where ${expected} were staged`);
    }
  }
  await advanceSequences(
    client,
    plan,
    [...written].filter(([, n]) => n > 0).map(([t]) => t),
  );

  let deleted = new Map<string, number>();
  if (o.move) {
    await actAs(client, ctx, o.source);
    deleted = await deleteRows(client, plan, key);
    for (const [table, n] of deleted) {
      const expected = staged ? staged.get(table)!.del : written.get(table)!;
      if (n !== expected) mismatch(`deleted ${n} rows from ${o.source.id}.${table} where ${expected} were inserted`);
    }
  }
  await catalogPath(client);
  const tables = plan.scope.map((table): TableCount => {
    const s = staged?.get(table);
    return {
      table,
      rows: written.get(table) ?? 0,
      ...(o.move ? { deleted: deleted.get(table) ?? 0 } : {}),
      ...(o.onConflict === 'skip' ? { skipped: s?.kept ?? 0 } : {}),
      ...(s ? { parents: s.parentsWritten } : {}),
    };
  });
  return { tables, rows: sum(tables.map((t) => t.rows)), deleted: sum(tables.map((t) => t.deleted ?? 0)) };
}

/**
 * Stages the selected rows. The --where condition is evaluated read-only, in a
 * savepoint with transaction_read_only on (writes to the staging tables, which
 * are temporary, are allowed): a condition that would write (nextval, setval, a
 * function that changes data) is refused by the server, in a dry run as in a
 * real one. Leaving the savepoint makes the transaction read-write again.
 */
async function seed(client: PoolClient, ctx: Context, plan: TransferPlan, o: ExecuteOptions): Promise<void> {
  await actAs(client, ctx, o.source);
  if (o.where !== undefined) await client.query('SAVEPOINT tc_where; SET LOCAL transaction_read_only = on');
  for (const table of plan.seeds) {
    try {
      await client.query({ text: seedSql(plan, table, o.where), queryMode: 'extended' } as { text: string });
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (o.where === undefined || !/^[0-9A-Z]{5}$/.test(code) || /^(40|53|55|57|08)/.test(code)) throw err;
      const why = `${(err as Error).message} (SQLSTATE ${code})`;
      if (code === SQLSTATE.READ_ONLY_SQL_TRANSACTION) {
        throw new InputError(
          'invalid_where',
          `--where ${JSON.stringify(o.where)} tries to write (${why}); the condition is evaluated read-only; nothing was changed`,
        );
      }
      if (code.startsWith('42'))
        throw new InputError(
          'invalid_where',
          `--where ${JSON.stringify(o.where)} does not work on table ${table}: ${why}; nothing was changed`,
        );
      throw new TransferFailure('where_failed', `--where ${JSON.stringify(o.where)} failed on table ${table}: ${why}; nothing was changed`);
    }
  }
  if (o.where !== undefined) await client.query('RELEASE SAVEPOINT tc_where');
  await catalogPath(client);
}

async function dryRun(client: PoolClient, plan: TransferPlan, o: ExecuteOptions): Promise<Execution> {
  const staged = plan.staged ? await stagedCounts(client, plan) : undefined;
  const whole = plan.staged ? undefined : await sourceCounts(client, plan);
  const tables: TableCount[] = [];
  for (const table of plan.scope) {
    const s = staged?.get(table);
    const rows = s ? s.moved + s.parents : whole!.get(table)!;
    const conflicts = rows > 0 ? await countConflicts(client, plan, table, o.target.key, plan.staged ? 'selected' : 'none') : 0;
    tables.push({
      table,
      rows,
      ...(o.move ? { deleted: s ? s.moved : rows } : {}),
      ...(s ? { parents: s.parents } : {}),
      conflicts,
    });
  }
  return { tables, rows: sum(tables.map((t) => t.rows)), deleted: sum(tables.map((t) => t.deleted ?? 0)) };
}

function mismatch(what: string): never {
  throw new TransferFailure('count_mismatch', `${what}; everything was rolled back, nothing changed`);
}

function conflictMessage(
  conflicts: readonly { table: string; constraint: string; columns: string[]; count: number; keys: unknown[][] }[],
  o: ExecuteOptions,
  err: unknown,
): string {
  const hint = 'use --on-conflict skip or update, or --remap-keys to give copied rows new keys';
  if (conflicts.length === 0)
    return `a copied row collides with a row of "${o.target.id}": ${(err as Error).message}; nothing was changed; ${hint}`;
  const parts = conflicts.map((c) => {
    const shown = c.keys.map((k) => `(${k.map((v) => JSON.stringify(v)).join(', ')})`).join(', ');
    return `${c.count} row${c.count === 1 ? '' : 's'} of ${c.table} (${c.constraint}: ${c.columns.join(', ')} = ${shown}${c.count > c.keys.length ? ', ...' : ''})`;
  });
  return `rows already exist in "${o.target.id}": ${parts.join('; ')}; nothing was changed; ${hint}`;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
