import { describeError } from '../errors.js';
import { parseTenantState, recordAppliedSql, recordRevertedSql, tenantStateSql } from '../control/journal.js';
import { asTenantSql, inTransaction, isConnectionLoss } from '../db/session.js';
import type { PoolClient } from '../db/types.js';
import { blame, MigrationFailure, runMigrationActions, type Batch, type Direction } from '../migrations/builder.js';
import { planDown, planUp } from '../migrations/plan.js';
import type { LoadedMigration } from '../migrations/types.js';
import type { TenantStatus } from '../control/tenants.js';
import { revokePublicSql } from '../roles/grants.js';
import type { Context } from '../context.js';
import type { TenantRunResult } from '../runtime/results.js';
import { describeMigrationFailure } from './failure-message.js';

interface JobBase {
  id: string;
  files: readonly LoadedMigration[];
  /** Statuses this job may run on (migrate: active; named tenants: active or suspended). */
  allowed: readonly TenantStatus[];
  /** Wait for a tenant another run holds instead of skipping it. */
  wait: boolean;
}

export type TenantMigrateJob =
  | (JobBase & { direction: 'up'; /** Last file index to apply (inclusive). */ toIndex: number })
  | (JobBase & { direction: 'down'; down: { count?: number; toName?: string } });

/**
 * One tenant, one transaction, two round trips when every pending migration is
 * pure builder output: (1) BEGIN, timeouts, the tenant's lock and its journal
 * re-read under the lock (another run may have finished it meanwhile); (2) the
 * migrations, the journal write, COMMIT and the session reset. Anything that
 * goes wrong rolls the whole tenant back: it stays at the version it had, and
 * the result names the migration file that failed. A lost connection is
 * rethrown for the fleet to handle.
 */
export async function migrateTenant(client: PoolClient, ctx: Context, job: TenantMigrateJob): Promise<TenantRunResult> {
  let batch: Batch | undefined;
  let todo: LoadedMigration[] = [];
  let schema = '';
  try {
    const outcome = await inTransaction(client, ctx.config, { lock: { ids: [job.id], wait: job.wait }, prelude: [tenantStateSql(ctx, job.id)] }, async (tx) => {
      const tenant = parseTenantState(tx.prelude[0]?.rows[0]);
      if (!tenant || !job.allowed.includes(tenant.status as TenantStatus)) {
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
    });
    if (outcome.locked) return { id: job.id, status: 'skipped', applied: [], reason: 'locked', error: 'another tenantctl run holds this tenant' };
    return outcome.value;
  } catch (err) {
    if (isConnectionLoss(err)) throw err;
    let failure = err instanceof MigrationFailure ? err : batch ? blame(batch, err) : new MigrationFailure(undefined, err);
    if (failure.migration === undefined && todo.length > 1) failure = await findFailing(client, ctx, job, schema, todo, failure);
    return { ...failed(job.id, describeMigrationFailure(failure, todo)), ...(failure.migration ? { migration: failure.migration } : {}) };
  }
}

function plan(job: TenantMigrateJob, journal: { name: string; checksum: string }[]): { todo: LoadedMigration[] } | { error: string } {
  if (job.direction === 'up') {
    const p = planUp(job.files, journal, job.toIndex);
    if (p.outOfOrder) {
      return { error: `migration ${p.outOfOrder.pending} is not applied but the later ${p.outOfOrder.applied} is; apply it by hand or rename it to sort last` };
    }
    return { todo: p.pending };
  }
  const p = planDown(job.files, journal, job.down);
  return p.error ? { error: p.error } : { todo: p.revert };
}

/**
 * The server gave no position and several migrations went in one message: run
 * them again one message each, in a transaction that is always rolled back, to
 * find the one that fails. When the failure does not happen again, the
 * original stays unnamed.
 */
async function findFailing(client: PoolClient, ctx: Context, job: TenantMigrateJob, schema: string, todo: LoadedMigration[], original: MigrationFailure): Promise<MigrationFailure> {
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

function skippedInactive(id: string, status: string | undefined): TenantRunResult {
  return { id, status: 'skipped', applied: [], reason: 'not-active', error: status ? `tenant is ${status}` : 'tenant was removed' };
}

function failed(id: string, error: string): TenantRunResult {
  return { id, status: 'failed', applied: [], error };
}

export { describeError };
