import { InputError, RunFailure } from '../../errors.js';
import { asCatalog, begin, releaseClean, rollback } from '../../db/session.js';
import type { PoolClient } from '../../db/types.js';
import { MigrationFailure } from '../../migrations/builder.js';
import type { Context } from '../../context.js';
import { qualified } from '../../util/quote.js';
import { deferrable, dropSql, restoreSql } from '../import-constraints.js';
import { buildTenant, provisioningMessage, type TenantSpec } from '../provision.js';
import type { RelocatedTable } from './options.js';
import { pauseAt } from './pause.js';
import { streamTable } from './stream.js';
import { afterCommitFailure, registerOnTarget, settleTarget, sumsOnOwnSession, switchOver, type MoveState, type Sides } from './switch.js';
import { freezeSql, lockableTables, rowTables, STABLE_TEXT, type RowTable } from './tables.js';

/**
 * Copy mode, in two open transactions: the target's (registry row, schema,
 * role, migrations, journal, then the rows) and the source's, opened once the
 * structure is built, which freezes the tenant's tables (EXCLUSIVE: reads go
 * on, writes wait) and feeds the rows with COPY. Foreign keys and plain
 * indexes are made after the rows (as pg_restore does), the tenant's own
 * triggers do not fire on the copied rows.
 */
export interface MoveInput extends Sides {
  started: number;
  purgeSource: boolean;
}

export interface MoveOutput {
  tables: RelocatedTable[];
  rows: number;
  bytes: number;
  archivedSource: string | null;
}

export async function copyMove(input: MoveInput): Promise<MoveOutput> {
  const { home, sctx, tctx, spec } = input;
  const schema = spec.schema;
  const state: MoveState = { at: 'open' };
  const step = (what: string) => home.log.debug(`relocate ${input.tenant.id}: ${what} at ${seconds(input.started)} s`);
  const target = await tctx.pool.connect();
  let source: PoolClient | undefined;
  let sourceOpen = false;
  try {
    // Indexes and foreign keys are made after the rows: with the memory pg_restore users give them.
    await begin(target, tctx.config, { statementTimeout: '0', prelude: [STABLE_TEXT, "SET LOCAL maintenance_work_mem = '256MB'"] });
    await registerOnTarget(target, input);
    await build(target, tctx, spec, true);
    await asCatalog(target);
    const targetTables = await rowTables(target, schema);
    const deferred = await deferrable(target, schema);
    const drop = dropSql(schema, deferred);
    if (drop) await target.query(drop);
    const triggers = (on: boolean) =>
      targetTables.map((t) => `ALTER TABLE ${qualified(schema, t.name)} ${on ? 'ENABLE' : 'DISABLE'} TRIGGER USER`).join(';\n');
    if (targetTables.length > 0) await target.query(triggers(false));
    await pauseAt(home, 'built');
    step('structure built');

    source = await sctx.pool.connect();
    await begin(source, sctx.config, { statementTimeout: '0', prelude: [STABLE_TEXT] });
    sourceOpen = true;
    const { lockable, sourceTables } = await freeze(source, input, targetTables);
    // The source's rows no longer change: its checksums are computed while the rows travel.
    const sourceSums = sumsOnOwnSession(sctx, schema, sourceTables);

    let rows = 0;
    let bytes = 0;
    for (const [i, t] of sourceTables.entries()) {
      const r = await streamTable(source, target, schema, t);
      rows += r.rows;
      bytes += r.bytes;
      home.onProgress?.({ id: t.name, status: `${r.rows} rows, ${r.bytes} bytes`, done: i + 1, failed: 0, total: sourceTables.length });
    }
    await pauseAt(home, 'copied');
    step('rows copied');
    const again = restoreSql(schema, deferred);
    if (again) await target.query(again);
    if (targetTables.length > 0) await target.query(triggers(true));
    step('indexes and foreign keys made');
    const tables = await settleTarget(source, target, input, sourceTables, { source: sourceSums });
    step('compared');
    const detail = { mode: 'copy', rows, bytes, seconds: seconds(input.started), tables: tables.length };
    const archivedSource = await switchOver(
      source,
      target,
      input,
      state,
      detail,
      { lockable, rowTables: sourceTables.map((t) => t.name) },
      input.purgeSource,
    );
    sourceOpen = false;
    step('switched');
    return { tables, rows, bytes, archivedSource };
  } catch (err) {
    if (state.at === 'open') await rollback(target);
    if (source && sourceOpen && state.at !== 'done') await rollback(source);
    throw afterCommitFailure(err, input, state);
  } finally {
    if (source) await releaseClean(source);
    await releaseClean(target);
  }
}

/** In the source's open transaction: every table of the tenant locked EXCLUSIVE, under the configured lock_timeout. */
export async function freeze(
  source: PoolClient,
  s: Sides,
  targetTables: readonly RowTable[],
): Promise<{ lockable: string[]; sourceTables: RowTable[] }> {
  const schema = s.spec.schema;
  const lockable = await lockableTables(source, schema);
  const sql = freezeSql(schema, lockable);
  // A writer that holds a table for long fails the move (lock_timeout), not the other way round.
  if (sql) await source.query(sql);
  s.home.log.info(
    `froze ${lockable.length} table${lockable.length === 1 ? '' : 's'} of ${s.tenant.id} on ${s.sctx.server} (reads go on, writes wait)`,
  );
  await pauseAt(s.home, 'frozen');
  const sourceTables = await rowTables(source, schema);
  assertSameTables(sourceTables, targetTables);
  return { lockable, sourceTables };
}

export async function build(db: PoolClient, tctx: Context, spec: TenantSpec, journal: boolean): Promise<void> {
  try {
    await buildTenant(db, tctx, spec, { defer: false, journal });
  } catch (err) {
    const message = provisioningMessage(err, spec);
    if (message) throw new InputError('role_exists', message);
    throw err instanceof MigrationFailure ? err.cause : err;
  }
}

function assertSameTables(source: readonly RowTable[], target: readonly RowTable[]): void {
  const there = new Map(target.map((t) => [t.name, t]));
  const problems: string[] = [];
  for (const s of source) {
    const t = there.get(s.name);
    if (!t) problems.push(`table ${s.name} is not made by the migrations`);
    else if (t.columns.join(',') !== s.columns.join(','))
      problems.push(`${s.name} has columns (${s.columns.join(', ')}) on the source, (${t.columns.join(', ')}) rebuilt`);
  }
  for (const t of target) if (!source.some((s) => s.name === t.name)) problems.push(`table ${t.name} is not on the source`);
  if (problems.length > 0)
    throw new RunFailure(
      'structure_differs',
      `the migrations rebuild a structure that differs from the source's: ${problems.slice(0, 5).join('; ')}; nothing was moved`,
    );
}

export function seconds(started: number): number {
  return Number(((performance.now() - started) / 1000).toFixed(3));
}
