import type { Context } from '../../context.js';
import { InputError, RunFailure } from '../../errors.js';
import { logOperationSql } from '../../control/oplog.js';
import { removePlacement, setPlacement } from '../../control/placements.js';
import { updateTenantFields, type TenantWithJournal } from '../../control/tenants.js';
import { readCatalog } from '../../copy/catalog.js';
import { asCatalog, begin, commit, releaseClean, rollback, runTransaction, withSession } from '../../db/session.js';
import type { PoolClient } from '../../db/types.js';
import { MigrationFailure } from '../../migrations/builder.js';
import { qualified } from '../../util/quote.js';
import { sequenceValues, setSequencesSql } from '../export-catalog.js';
import { advancePastRows } from '../import.js';
import { deferrable, dropSql, restoreSql } from '../import-constraints.js';
import { buildTenant, provisioningMessage, registerSql, type TenantSpec } from '../provision.js';
import { archiveSource, purgeArchivedSource } from './archive.js';
import type { RelocatedTable } from './options.js';
import { pauseAt } from './pause.js';
import { streamTable } from './stream.js';
import { freezeSql, lockableTables, mismatches, rowTables, STABLE_TEXT, tableSums, type RowTable } from './tables.js';

/**
 * The move itself, in three transactions whose order is the crash argument
 * (docs/relocate.md):
 *   T (target): registry row, schema, role, migrations, journal and rows, one
 *     transaction; when T is the home server the placements row goes in it too.
 *   S (source): opened after T's structure, it freezes the tenant's tables
 *     (EXCLUSIVE: reads go on, writes wait), feeds the rows, and is the last to
 *     commit, with the archive; when S is the home server the flip goes in it.
 *   home, when neither is: the flip alone, between T's commit and S's.
 * Before T commits the tenant is wholly on S; after the flip wholly on T.
 */
export interface MoveInput {
  home: Context;
  sctx: Context;
  tctx: Context;
  tenant: TenantWithJournal;
  spec: TenantSpec;
  mode: 'copy';
  started: number;
  purgeSource: boolean;
}

export interface MoveOutput {
  tables: RelocatedTable[];
  rows: number;
  bytes: number;
  archivedSource: string | null;
}

export async function moveTenant(input: MoveInput): Promise<MoveOutput> {
  const { home, sctx, tctx, tenant, spec } = input;
  const S = sctx.server;
  const T = tctx.server;
  const schema = spec.schema;
  const target = await tctx.pool.connect();
  let source: PoolClient | undefined;
  let state: 'open' | 'target-committed' | 'flipped' | 'done' = 'open';
  let sourceOpen = false;
  try {
    await begin(target, tctx.config, { statementTimeout: '0', prelude: [STABLE_TEXT] });
    // The home server's registry row may only appear with the placement gone (a home row with no placement is a live tenant).
    if (T === 'default') await removePlacement(target, home, tenant.id);
    const inserted = await target.query(registerSql(tctx, spec));
    if (inserted.rowCount !== 1)
      throw new RunFailure('target_taken', `server "${T}" already has a tenant "${tenant.id}"; nothing was changed`);
    if (tenant.status === 'suspended') await updateTenantFields(target, tctx, tenant.id, { status: 'suspended' });
    await build(target, tctx, spec);
    await asCatalog(target);
    const targetTables = await rowTables(target, schema);
    const deferred = await deferrable(target, schema);
    const drop = dropSql(schema, deferred);
    if (drop) await target.query(drop);
    const triggers = targetTables.map((t) => `ALTER TABLE ${qualified(schema, t.name)} DISABLE TRIGGER USER`).join(';\n');
    if (triggers) await target.query(triggers);
    await pauseAt(home, 'built');

    source = await sctx.pool.connect();
    await begin(source, sctx.config, { statementTimeout: '0', prelude: [STABLE_TEXT] });
    sourceOpen = true;
    const lockable = await lockableTables(source, schema);
    const freeze = freezeSql(schema, lockable);
    // Under the configured lock_timeout: a writer that holds a table for long fails the move, not the other way round.
    if (freeze) await source.query(freeze);
    home.log.info(`froze ${lockable.length} table${lockable.length === 1 ? '' : 's'} of ${tenant.id} on ${S} (reads go on, writes wait)`);
    await pauseAt(home, 'frozen');
    const sourceTables = await rowTables(source, schema);
    assertSameTables(sourceTables, targetTables);

    let rows = 0;
    let bytes = 0;
    for (const [i, t] of sourceTables.entries()) {
      const r = await streamTable(source, target, schema, t);
      rows += r.rows;
      bytes += r.bytes;
      home.onProgress?.({ id: t.name, status: `${r.rows} rows, ${r.bytes} bytes`, done: i + 1, failed: 0, total: sourceTables.length });
    }
    await pauseAt(home, 'copied');

    // Sequences and identities: the source's values, and past the largest value now in each column.
    const seq = setSequencesSql(schema, await sequenceValues(source, schema));
    if (seq) await target.query(seq);
    await advancePastRows(target, await readCatalog(target, schema));
    const again = restoreSql(schema, deferred);
    if (again) await target.query(again);
    const enable = targetTables.map((t) => `ALTER TABLE ${qualified(schema, t.name)} ENABLE TRIGGER USER`).join(';\n');
    if (enable) await target.query(enable);

    const [before, after] = await Promise.all([tableSums(source, schema, sourceTables), tableSums(target, schema, targetTables)]);
    const wrong = mismatches(before, after);
    if (wrong.length > 0)
      throw new RunFailure('checksum_mismatch', `the copy on "${T}" differs from the source: ${wrong.join('; ')}; nothing was moved`, {
        tables: wrong,
      });
    const tables = before.map((t) => ({ table: t.table, rows: t.rows, checksum: t.checksum }));

    const archived = `${schema}$archived`;
    const detail = {
      from: S,
      to: T,
      mode: input.mode,
      rows,
      bytes,
      seconds: Number(((performance.now() - input.started) / 1000).toFixed(3)),
      archivedSchema: input.purgeSource ? null : archived,
      tables: tables.length,
    };
    const flip = async (db: PoolClient) => {
      await setPlacement(db, home, { id: tenant.id, server: T, key: tenant.key });
      await db.query(logOperationSql(home, 'relocate', tenant.id, detail));
    };
    // The switch. T first: before its commit nothing of this move is visible.
    if (T === 'default') await target.query(logOperationSql(home, 'relocate', tenant.id, detail));
    await commit(target, '', {});
    state = T === 'default' ? 'flipped' : 'target-committed';
    await pauseAt(home, 'target-committed');
    if (S === 'default') await flip(source);
    else if (T !== 'default') {
      await withSession(home.pool, (c) => runTransaction(c, home.config, {}, () => flip(c)));
      state = 'flipped';
      await pauseAt(home, 'flipped');
    }
    const writable = lockable;
    const truncatable = sourceTables.map((t) => t.name);
    const archivedSchema = await archiveSource(source, sctx, tenant, T, { writable, truncatable });
    await pauseAt(home, 'source-archiving');
    await commit(source, '', {});
    sourceOpen = false;
    state = 'done';
    home.log.info(`${tenant.id} is on ${T}; its copy on ${S} is archived as ${archivedSchema}`);
    let archivedSource: string | null = archivedSchema;
    if (input.purgeSource) {
      await withSession(sctx.pool, (c) =>
        runTransaction(c, sctx.config, {}, () =>
          purgeArchivedSource(c, sctx, { id: tenant.id, archived: archivedSchema, role: tenant.role }),
        ),
      );
      archivedSource = null;
    }
    return { tables, rows, bytes, archivedSource };
  } catch (err) {
    if (state === 'open') await rollback(target);
    if (source && sourceOpen) await rollback(source);
    if (state === 'target-committed')
      throw new RunFailure(
        'relocate_failed',
        `${describe(err)}; tenant "${tenant.id}" stays on "${S}" (the copy on "${T}" is a leftover the next run clears)`,
      );
    if (state === 'flipped')
      throw new RunFailure(
        'relocate_unfinished',
        `tenant "${tenant.id}" is on "${T}", but archiving its copy on "${S}" failed: ${describe(err)}; run the same command again to finish`,
      );
    throw err;
  } finally {
    if (source) await releaseClean(source);
    await releaseClean(target);
  }
}

async function build(db: PoolClient, tctx: Context, spec: TenantSpec): Promise<void> {
  try {
    await buildTenant(db, tctx, spec, { defer: false });
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

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
