import { describeError } from '../errors.js';
import { ensureControlSchema } from '../control/ensure.js';
import { logOperation } from '../control/oplog.js';
import { deleteTenant, markArchived, readTenantRows, type TenantRow } from '../control/tenants.js';
import { countRows, totalRows } from './row-counts.js';
import { inTransaction, isConnectionLoss, withSession } from '../db/session.js';
import type { PoolClient } from '../db/types.js';
import { dropTenantRole, revokeTenantAccess } from '../roles/grants.js';
import { databaseOid, sharedRoleName } from '../roles/names.js';
import { ident } from '../util/quote.js';
import type { Context } from '../context.js';
import { findTenants } from '../runtime/lookup.js';

export interface RemoveTenantsOptions {
  ids: string[];
  /** Drop schema, role and registry row instead of archiving. */
  purge?: boolean;
  /** Say what would happen; change nothing. */
  dryRun?: boolean;
}

export interface RemoveResult {
  id: string;
  status: 'archived' | 'purged' | 'would-archive' | 'would-purge' | 'failed' | 'skipped';
  schema: string;
  /** Rows per table in the tenant's schema at the time (kept by archive, dropped by purge). */
  rows: Record<string, number>;
  totalRows: number;
  error?: string;
  /** Why a tenant was skipped: another run holds it. */
  reason?: 'locked';
}

/** The schema an archived tenant's data waits in: outside the tenant id space ($ is not allowed in ids). */
export function archivedSchemaName(schema: string): string {
  return `${schema}$archived`;
}

/**
 * Archive (default) or purge tenants, each in one transaction under its lock.
 * Archive renames the schema, revokes the role's access and keeps every row;
 * purge drops schema, role and registry row and logs the row counts dropped.
 */
export async function removeTenants(ctx: Context, options: RemoveTenantsOptions): Promise<{ tenants: RemoveResult[] }> {
  const found = await findTenants(ctx, options.ids);
  if (!options.dryRun) await ensureControlSchema(ctx);
  const results: RemoveResult[] = [];
  for (const t of found) {
    results.push(
      await withSession(ctx.pool, async (client) => {
        if (options.dryRun) {
          const rows = await countRows(client, t.schema);
          return { id: t.id, status: options.purge ? 'would-purge' : 'would-archive', schema: t.schema, rows, totalRows: totalRows(rows) };
        }
        return removeOne(client, ctx, t.id, options.purge ?? false);
      }),
    );
  }
  return { tenants: results };
}

async function removeOne(client: PoolClient, ctx: Context, id: string, purge: boolean): Promise<RemoveResult> {
  let schema = '';
  try {
    const outcome = await inTransaction(client, ctx.config, { lock: { ids: [id] } }, async (tx): Promise<RemoveResult> => {
      const [row] = await readTenantRows(client, ctx, [id], true);
      if (!row) {
        tx.rollbackOnly();
        return { id, status: 'skipped', schema, rows: {}, totalRows: 0, error: 'tenant was removed meanwhile' };
      }
      schema = row.schema;
      if (!purge && row.status === 'archived') {
        tx.rollbackOnly();
        return { id, status: 'skipped', schema, rows: {}, totalRows: 0, error: 'already archived' };
      }
      const rows = await countRows(client, row.schema);
      if (purge) await purgeTenant(client, ctx, row, rows);
      else await archiveTenant(client, ctx, row, rows);
      return { id, status: purge ? 'purged' : 'archived', schema, rows, totalRows: totalRows(rows) };
    });
    if (outcome.locked) return { id, status: 'skipped', schema, rows: {}, totalRows: 0, reason: 'locked', error: 'another tenantctl run holds this tenant; retry when it finishes' };
    return outcome.value;
  } catch (err) {
    if (isConnectionLoss(err)) throw err;
    return { id, status: 'failed', schema, rows: {}, totalRows: 0, error: describeError(err) };
  }
}

async function archiveTenant(db: PoolClient, ctx: Context, row: TenantRow, counts: Record<string, number>): Promise<void> {
  const archived = archivedSchemaName(row.schema);
  await db.query(`ALTER SCHEMA ${ident(row.schema)} RENAME TO ${ident(archived)}`);
  if (row.role) await revokeTenantAccess(db, archived, row.role, sharedRoleName(await databaseOid(db, ctx)));
  await markArchived(db, ctx, row.id, archived);
  await logOperation(db, ctx, 'archive', row.id, { schema: row.schema, archivedSchema: archived, previousStatus: row.status, rows: counts, totalRows: totalRows(counts) });
}

async function purgeTenant(db: PoolClient, ctx: Context, row: TenantRow, counts: Record<string, number>): Promise<void> {
  await db.query(`DROP SCHEMA IF EXISTS ${ident(row.schema)} CASCADE`);
  if (row.role) await dropTenantRole(db, row.role);
  await deleteTenant(db, ctx, row.id);
  await logOperation(db, ctx, 'purge', row.id, { schema: row.schema, role: row.role, key: row.key, rows: counts, totalRows: totalRows(counts) });
}
