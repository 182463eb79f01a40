import { describeError } from '../errors.js';
import { parseTenantState, recordAppliedSql, recordRevertedSql, tenantStateSql } from '../control/journal.js';
import { asTenantSql, inTransaction, isConnectionLoss } from '../db/session.js';
import type { PoolClient } from '../db/types.js';
import { blame, MigrationFailure, runMigrationActions, type Batch, type Direction } from '../migrations/builder.js';
import type { LoadedMigration } from '../migrations/types.js';
import { sqlstateOf } from '../sqlstate.js';
import { revokePublicSql } from '../roles/grants.js';
import type { Context } from '../context.js';
import type { TenantRunResult } from '../runtime/results.js';
import { describeMigrationFailure } from './failure-message.js';
import { migrateTenantOnline, needsOnline } from './online-step.js';
import { allowedStatus, failed, plan, skippedInactive, skippedLocked, type TenantMigrateJob } from './tenant-plan.js';

export type { TenantMigrateJob } from './tenant-plan.js';

/**
 * One tenant, one transaction, two round trips when every pending migration is
 * pure builder output: (1) BEGIN, timeouts, the tenant's lock and its journal
 * re-read under the lock (another run may have finished it meanwhile); (2) the
 * migrations, the journal write, COMMIT and the session reset. Anything that
 * goes wrong rolls the whole tenant back: it stays at the version it had, and
 * the result names the migration file that failed. A lost connection is
 * rethrown for the fleet to handle. A tenant with a pending migration that
 * calls pgm.noTransaction() goes through migrateTenantOnline instead.
 */
export async function migrateTenant(client: PoolClient, ctx: Context, job: TenantMigrateJob): Promise<TenantRunResult> {
  if (job.online ?? (await needsOnline(job))) return migrateTenantOnline(client, ctx, job);
  let batch: Batch | undefined;
  let todo: LoadedMigration[] = [];
  let schema = '';
  try {
    const outcome = await inTransaction(
      client,
      ctx.config,
      { lock: { ids: [job.id], wait: job.wait }, prelude: [tenantStateSql(ctx, job.id)] },
      async (tx) => {
        const tenant = parseTenantState(tx.prelude[0]?.rows[0]);
        if (!tenant || !allowedStatus(job, tenant.status)) {
          tx.rollbackOnly();
          return skippedInactive(job.id, tenant?.status);
        }
        const planned = plan(job, tenant.journal);
        if ('error' in planned) {
          tx.rollbackOnly();
          return failed(job.id, planned.error);
        }
        todo = planned.todo;
        if (todo.length === 0) {
          tx.rollbackOnly();
          return { id: job.id, status: 'up-to-date', applied: [] } satisfies TenantRunResult;
        }
        schema = tenant.schema;
        batch = await runMigrationActions(client, todo, job.direction, ctx.log, {
          prologue: asTenantSql(ctx.config, { schema }),
          epilogue: ctx.config.roles ? revokePublicSql(schema) : '',
          deferLast: true,
        });
        tx.last(batch.text);
        const names = todo.map((m) => m.name);
        tx.last(job.direction === 'up' ? recordAppliedSql(ctx, job.id, todo) : recordRevertedSql(ctx, job.id, names));
        return { id: job.id, status: job.direction === 'up' ? 'migrated' : 'reverted', applied: names } satisfies TenantRunResult;
      },
    );
    if (outcome.locked) return skippedLocked(job.id);
    return outcome.value;
  } catch (err) {
    if (isConnectionLoss(err)) throw err;
    let failure = err instanceof MigrationFailure ? err : batch ? blame(batch, err) : new MigrationFailure(undefined, err);
    if (failure.migration === undefined && todo.length > 1) failure = await findFailing(client, ctx, job, schema, todo, failure);
    const sqlstate = sqlstateOf(failure.cause);
    return {
      ...failed(job.id, describeMigrationFailure(failure, todo)),
      ...(failure.migration ? { migration: failure.migration } : {}),
      ...(sqlstate ? { sqlstate } : {}),
    };
  }
}

/**
 * The server gave no position and several migrations went in one message: run
 * them again one message each, in a transaction that is always rolled back, to
 * find the one that fails. When the failure does not happen again, the
 * original stays unnamed.
 */
async function findFailing(
  client: PoolClient,
  ctx: Context,
  job: TenantMigrateJob,
  schema: string,
  todo: LoadedMigration[],
  original: MigrationFailure,
): Promise<MigrationFailure> {
  const direction: Direction = job.direction;
  try {
    await inTransaction(client, ctx.config, { lock: { ids: [job.id], wait: false } }, async (tx) => {
      tx.rollbackOnly();
      await runMigrationActions(client, todo, direction, ctx.log, { prologue: asTenantSql(ctx.config, { schema }), flushEach: true });
    });
  } catch (err) {
    if (err instanceof MigrationFailure && err.migration) return new MigrationFailure(err.migration, original.cause, err.position);
  }
  return original;
}

export { describeError };
