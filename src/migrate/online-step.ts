// One tenant's migrations when one of them calls pgm.noTransaction(): the tenant's lock held by the
// session for the whole step, each run of transactional migrations in a transaction of its own, each
// non-transactional migration statement by statement; every migration recorded once it is done.
import type { Context } from '../context.js';
import { parseTenantState, recordAppliedSql, recordRevertedSql, tenantStateSql } from '../control/journal.js';
import { asTenantSql, holdTenantLock, isConnectionLoss, releaseTenantLock, runTransaction, sessionAsTenantSql } from '../db/session.js';
import { sqlstateOf } from '../sqlstate.js';
import type { PoolClient } from '../db/types.js';
import { blame, isTransactional, MigrationFailure, runMigrationActions, type Batch } from '../migrations/builder.js';
import type { LoadedMigration } from '../migrations/types.js';
import { revokePublicSql } from '../roles/grants.js';
import type { TenantRunResult } from '../runtime/results.js';
import { describeMigrationFailure } from './failure-message.js';
import { invalidIndexes, rebuildInvalid } from './invalid-indexes.js';
import { runOnlineMigration } from './online-migration.js';
import { allowedStatus, failed, plan, skippedInactive, skippedLocked, type TenantMigrateJob } from './tenant-plan.js';

/** Whether any migration this job may run calls pgm.noTransaction() (for up: up to the target; for down: any). */
export async function needsOnline(job: TenantMigrateJob): Promise<boolean> {
  const files = job.direction === 'up' ? job.files.slice(0, job.toIndex + 1) : job.files;
  for (const f of files) if (!(await isTransactional(f, job.direction))) return true;
  return false;
}

/** Consecutive transactional migrations go together; a non-transactional one goes alone. */
async function segments(
  todo: readonly LoadedMigration[],
  direction: 'up' | 'down',
): Promise<{ transactional: boolean; migrations: LoadedMigration[] }[]> {
  const out: { transactional: boolean; migrations: LoadedMigration[] }[] = [];
  for (const m of todo) {
    const transactional = await isTransactional(m, direction);
    const last = out.at(-1);
    if (transactional && last?.transactional) last.migrations.push(m);
    else out.push({ transactional, migrations: [m] });
  }
  return out;
}

/**
 * The tenant's lock is session-level and taken first (try, or wait with
 * `job.wait`); its journal is read under it. Migrations are recorded as each
 * run of them is done, so a failure leaves the tenant at the last migration
 * that completed: `applied` lists those, and the next run goes on from there
 * (clearing what an interrupted CONCURRENTLY statement left). The lock and
 * every session setting are dropped at the end, whatever happened.
 */
export async function migrateTenantOnline(client: PoolClient, ctx: Context, job: TenantMigrateJob): Promise<TenantRunResult> {
  const applied: string[] = [];
  const repaired: string[] = [];
  let todo: LoadedMigration[] = [];
  let current: LoadedMigration[] = [];
  let batch: Batch | undefined;
  if (!(await holdTenantLock(client, ctx.config, { id: job.id, wait: job.wait }))) return skippedLocked(job.id);
  try {
    const tenant = parseTenantState((await client.query(tenantStateSql(ctx, job.id))).rows[0]);
    if (!tenant || !allowedStatus(job, tenant.status)) return skippedInactive(job.id, tenant?.status);
    const planned = plan(job, tenant.journal);
    if ('error' in planned) return failed(job.id, planned.error);
    todo = planned.todo;
    const repair = job.repair ?? [];
    if (todo.length === 0 && repair.length === 0) return { id: job.id, status: 'up-to-date', applied: [] };
    const schema = tenant.schema;
    await client.query(sessionAsTenantSql(ctx.config, schema));
    for (const seg of await segments(todo, job.direction)) {
      current = seg.migrations;
      batch = undefined;
      const names = seg.migrations.map((m) => m.name);
      if (!seg.transactional) {
        const out = await runOnlineMigration(client, ctx, { id: job.id, schema }, seg.migrations[0]!, job.direction);
        repaired.push(...out.repaired);
      } else {
        await runTransaction(client, ctx.config, { keepSession: true }, async (tx) => {
          batch = await runMigrationActions(client, seg.migrations, job.direction, ctx.log, {
            prologue: asTenantSql(ctx.config, { schema }),
            epilogue: ctx.config.roles ? revokePublicSql(schema) : '',
            deferLast: true,
          });
          tx.last(batch.text);
          tx.last(job.direction === 'up' ? recordAppliedSql(ctx, job.id, seg.migrations) : recordRevertedSql(ctx, job.id, names));
        });
      }
      applied.push(...names);
    }
    current = [];
    if (repair.length > 0) {
      const before = (await invalidIndexes(client, [schema], repair)).get(schema) ?? [];
      const left = await rebuildInvalid(client, schema, repair);
      if (left.length) throw new Error(`index ${left.join(', ')} is still INVALID after REINDEX CONCURRENTLY`);
      repaired.push(...before);
    }
    return { id: job.id, status: job.direction === 'up' ? 'migrated' : 'reverted', applied, ...(repaired.length ? { repaired } : {}) };
  } catch (err) {
    if (isConnectionLoss(err)) throw err;
    const failure =
      err instanceof MigrationFailure
        ? err
        : batch
          ? blame(batch, err)
          : new MigrationFailure(current.length === 1 ? current[0]!.name : undefined, err);
    const sqlstate = sqlstateOf(failure.cause);
    const done = applied.length ? `; ${applied.join(', ')} applied and recorded before it` : '';
    return {
      ...failed(job.id, `${describeMigrationFailure(failure, todo)}${done}`),
      applied,
      ...(failure.migration ? { migration: failure.migration } : {}),
      ...(sqlstate ? { sqlstate } : {}),
      ...(repaired.length ? { repaired } : {}),
    };
  } finally {
    await releaseTenantLock(client);
  }
}
