import type { Context } from '../../context.js';
import { RunFailure } from '../../errors.js';
import { logOperationSql } from '../../control/oplog.js';
import { removePlacement, setPlacement } from '../../control/placements.js';
import { updateTenantFields, type TenantWithJournal } from '../../control/tenants.js';
import { readCatalog } from '../../copy/catalog.js';
import { asCatalog, commit, runTransaction, withSession } from '../../db/session.js';
import type { PoolClient } from '../../db/types.js';
import { sequenceValues, setSequencesSql } from '../export-catalog.js';
import { advancePastRows } from '../import.js';
import { archivedSchemaName } from '../remove.js';
import { registerSql, type TenantSpec } from '../provision.js';
import { archiveSource, purgeArchivedSource } from './archive.js';
import type { RelocatedTable } from './options.js';
import { pauseAt } from './pause.js';
import { mismatches, STABLE_TEXT, tableSums, type RowTable, type TableSum } from './tables.js';

/**
 * What both modes share: the target's registry row, its sequences and the
 * comparison with the frozen source, in the target's transaction; then the
 * switch, whose order is the crash argument (docs/relocate.md):
 *   T commits (registry row, journal, rows; the placements row when T is home),
 *   the map flips (in S's transaction when S is home, alone when neither is),
 *   S commits the archive (the freeze ends, blocked writers fail and retry).
 * Before T commits the tenant is wholly on S; after the flip wholly on T.
 */
export interface Sides {
  home: Context;
  sctx: Context;
  tctx: Context;
  tenant: TenantWithJournal;
  spec: TenantSpec;
}

/** Where a move stands, for what a failure means: before T's commit nothing happened; after the flip the tenant is on T. */
export type MoveState = { at: 'open' | 'target-committed' | 'flipped' | 'done' };

/** In the target's open transaction: the registry row (the placements row first when the target is home). */
export async function registerOnTarget(target: PoolClient, s: Sides): Promise<void> {
  // The home server's registry row may only appear with the placement gone (a home row with no placement is a live tenant).
  if (s.tctx.server === 'default') await removePlacement(target, s.home, s.tenant.id);
  const inserted = await target.query(registerSql(s.tctx, s.spec));
  if (inserted.rowCount !== 1)
    throw new RunFailure('target_taken', `server "${s.tctx.server}" already has a tenant "${s.tenant.id}"; nothing was changed`);
  if (s.tenant.status === 'suspended') await updateTenantFields(target, s.tctx, s.tenant.id, { status: 'suspended' });
}

/**
 * With the source frozen and every row on the target: the source's sequence
 * values, then each sequence past the largest value in its column; then the
 * count and checksum of every table on both sides (the source's, and the
 * target's when its rows are committed already, computed meanwhile on
 * sessions of their own). Any difference fails the move (exit 1) with nothing
 * flipped.
 */
export async function settleTarget(
  source: PoolClient,
  target: PoolClient,
  s: Sides,
  tables: readonly RowTable[],
  sums: { source: Promise<TableSum[]>; target?: Promise<TableSum[]> },
): Promise<RelocatedTable[]> {
  const schema = s.spec.schema;
  const seq = setSequencesSql(schema, await sequenceValues(source, schema));
  if (seq) await target.query(seq);
  await asCatalog(target);
  await advancePastRows(target, await readCatalog(target, schema));
  const [before, after] = await Promise.all([sums.source, sums.target ?? tableSums(target, schema, tables)]);
  const wrong = mismatches(before, after);
  if (wrong.length > 0)
    throw new RunFailure(
      'checksum_mismatch',
      `the copy on "${s.tctx.server}" differs from the source: ${wrong.join('; ')}; nothing was moved`,
      {
        tables: wrong,
      },
    );
  return before.map((t) => ({ table: t.table, rows: t.rows, checksum: t.checksum }));
}

/**
 * Counts and checksums on a read-only session of their own, begun now: for
 * rows that no longer change (the source under its freeze, the target's
 * committed copy once replication has stopped), alongside other work. The
 * promise never rejects unobserved; awaiting it gives the error.
 */
export function sumsOnOwnSession(ctx: Context, schema: string, tables: readonly RowTable[]): Promise<TableSum[]> {
  const sums = withSession(ctx.pool, (c) =>
    runTransaction(c, ctx.config, { readOnly: true, statementTimeout: '0', prelude: [STABLE_TEXT] }, () => tableSums(c, schema, tables)),
  );
  sums.catch(() => undefined);
  return sums;
}

/**
 * The switch, from the target's and the source's open transactions. Returns
 * the archived source's schema, or null once purged (--purge-source).
 */
export async function switchOver(
  source: PoolClient,
  target: PoolClient,
  s: Sides,
  state: MoveState,
  detail: Record<string, unknown>,
  archive: { lockable: readonly string[]; rowTables: readonly string[]; sourceSql?: string },
  purgeSource: boolean,
): Promise<string | null> {
  const S = s.sctx.server;
  const T = s.tctx.server;
  const entry = { ...detail, from: S, to: T, archivedSchema: purgeSource ? null : archivedSchemaName(s.tenant.schema) };
  const flip = async (db: PoolClient) => {
    await setPlacement(db, s.home, { id: s.tenant.id, server: T, key: s.tenant.key });
    await db.query(logOperationSql(s.home, 'relocate', s.tenant.id, entry));
  };
  // T first: before its commit nothing of this move is visible.
  if (T === 'default') await target.query(logOperationSql(s.home, 'relocate', s.tenant.id, entry));
  await commit(target);
  state.at = T === 'default' ? 'flipped' : 'target-committed';
  await pauseAt(s.home, 'target-committed');
  if (S === 'default') await flip(source);
  else if (T !== 'default') {
    await withSession(s.home.pool, (c) => runTransaction(c, s.home.config, {}, () => flip(c)));
    state.at = 'flipped';
    await pauseAt(s.home, 'flipped');
  }
  if (archive.sourceSql) await source.query(archive.sourceSql);
  const archived = await archiveSource(source, s.sctx, s.tenant, T, { writable: archive.lockable, truncatable: archive.rowTables });
  await pauseAt(s.home, 'source-archiving');
  await commit(source);
  state.at = 'done';
  s.home.log.info(`${s.tenant.id} is on ${T}; its copy on ${S} is archived as ${archived}`);
  if (!purgeSource) return archived;
  await withSession(s.sctx.pool, (c) =>
    runTransaction(c, s.sctx.config, {}, () => purgeArchivedSource(c, s.sctx, { id: s.tenant.id, archived, role: s.tenant.role })),
  );
  return null;
}

/** What a failure after the target's commit means for the user. */
export function afterCommitFailure(err: unknown, s: Sides, state: MoveState): unknown {
  const message = err instanceof Error ? err.message : String(err);
  if (state.at === 'target-committed')
    return new RunFailure(
      'relocate_failed',
      `${message}; tenant "${s.tenant.id}" stays on "${s.sctx.server}" (the copy on "${s.tctx.server}" is a leftover the next run clears)`,
    );
  if (state.at === 'flipped')
    return new RunFailure(
      'relocate_unfinished',
      `tenant "${s.tenant.id}" is on "${s.tctx.server}", but archiving its copy on "${s.sctx.server}" failed: ${message}; run the same command again to finish`,
    );
  return err;
}
