import { describeError } from '../errors.js';
import { isConnectionLoss } from '../db/with.js';
import type { PoolClient } from '../db/types.js';
import { runMigrationActions, type Direction } from '../migrations/builder.js';
import { planDown, planUp, type JournalEntry } from '../migrations/plan.js';
import { beginTenantTransaction, commitTenantTransaction, rollbackQuietly, setTenantSearchPath } from '../migrations/tenant-tx.js';
import type { LoadedMigration } from '../migrations/types.js';
import { revokePublicSql } from '../roles/grants.js';
import { ident } from '../util/quote.js';
import type { Context } from '../context.js';
import type { TenantRunResult } from '../runtime/results.js';
import { recordApplied, recordReverted } from '../control/journal.js';

export interface TenantMigrateJob {
  id: string;
  direction: Direction;
  files: readonly LoadedMigration[];
  /** up: last file index to apply (inclusive). */
  toIndex?: number;
  /** down: how far to roll back. */
  down?: { count?: number; toName?: string };
  /** Statuses this job may run on (migrate: active; named tenants: active or suspended). */
  allowed: readonly string[];
}

/**
 * One tenant, one transaction: take its lock, re-read its journal (another run
 * may have finished it meanwhile), apply or revert what is still needed, record
 * it, commit. Anything that goes wrong rolls the whole tenant back: it stays at
 * the version it had. A lost connection is rethrown for the fleet to handle.
 */
export async function migrateTenant(client: PoolClient, ctx: Context, job: TenantMigrateJob, wait: boolean): Promise<TenantRunResult> {
  const s = ident(ctx.config.controlSchema);
  try {
    if (!(await beginTenantTransaction(client, ctx, job.id, wait))) {
      return { id: job.id, status: 'skipped', applied: [], reason: 'locked', error: 'another tenantctl run holds this tenant' };
    }
    const fresh = await client.query<{ status: string; schema: string; journal: JournalEntry[] }>(
      `SELECT t.status, t.schema_name AS schema,
         coalesce((SELECT json_agg(json_build_object('name', m.name, 'checksum', m.checksum)) FROM ${s}.tenant_migrations m WHERE m.tenant_id = t.id), '[]') AS journal
       FROM ${s}.tenants t WHERE t.id = $1`,
      [job.id],
    );
    const tenant = fresh.rows[0];
    if (!tenant || !job.allowed.includes(tenant.status)) {
      await rollbackQuietly(client);
      return { id: job.id, status: 'skipped', applied: [], reason: 'not-active', error: tenant ? `tenant is ${tenant.status}` : 'tenant was removed' };
    }
    let todo: LoadedMigration[];
    if (job.direction === 'up') {
      const plan = planUp(job.files, tenant.journal, job.toIndex);
      if (plan.outOfOrder) {
        await rollbackQuietly(client);
        return failed(job.id, `migration ${plan.outOfOrder.pending} is not applied but the later ${plan.outOfOrder.applied} is; apply it by hand or rename it to sort last`);
      }
      todo = plan.pending;
    } else {
      const plan = planDown(job.files, tenant.journal, job.down ?? {});
      if (plan.error) {
        await rollbackQuietly(client);
        return failed(job.id, plan.error);
      }
      todo = plan.revert;
    }
    if (todo.length === 0) {
      await rollbackQuietly(client);
      return { id: job.id, status: 'up-to-date', applied: [] };
    }
    await setTenantSearchPath(client, ctx, tenant.schema);
    await runMigrationActions(client, todo, job.direction, ctx.log, ctx.config.roles ? revokePublicSql(tenant.schema) : '');
    const names = todo.map((m) => m.name);
    if (job.direction === 'up') await recordApplied(client, ctx, job.id, todo);
    else await recordReverted(client, ctx, job.id, names);
    await commitTenantTransaction(client);
    return { id: job.id, status: 'migrated', applied: names };
  } catch (err) {
    if (isConnectionLoss(err)) throw err;
    await rollbackQuietly(client);
    return failed(job.id, describeError(err));
  }
}

function failed(id: string, error: string): TenantRunResult {
  return { id, status: 'failed', applied: [], error };
}
