import { describeError, unknownTenants, usage } from '../errors.js';
import { controlReady, ensureControlSchema } from '../control/ensure.js';
import { logOperation, purgedIds } from '../control/oplog.js';
import { deleteTenant, markArchived, readTenantRows, type TenantRow } from '../control/tenants.js';
import { countRows, totalRows } from './row-counts.js';
import { inTransaction, isConnectionLoss, withSession } from '../db/session.js';
import type { PoolClient } from '../db/types.js';
import { dropTenantRole, revokeTenantAccess } from '../roles/grants.js';
import { databaseOid, sharedRoleName } from '../roles/names.js';
import { ident } from '../util/quote.js';
import type { Context } from '../context.js';
import { validateIds } from '../runtime/lookup.js';

export interface RemoveTenantsOptions {
  ids: string[];
  /** Drop schema, role and registry row instead of archiving. */
  purge?: boolean;
  /** Say what would happen; change nothing. */
  dryRun?: boolean;
}

export interface RemoveResult {
  id: string;
  status: 'archived' | 'purged' | 'gone' | 'would-archive' | 'would-purge' | 'failed' | 'skipped';
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
export function validateRemoveOptions(options: RemoveTenantsOptions): string[] {
  const ids = validateIds(options.ids) ?? [];
  if (ids.length === 0) throw usage('tenant remove needs at least one tenant id');
  return ids;
}

/**
 * The same command run again finishes the job: with --purge, an id the
 * operations log shows as purged already is reported `gone` (exit 0), not as
 * an unknown tenant.
 */
export async function removeTenants(ctx: Context, options: RemoveTenantsOptions): Promise<{ tenants: RemoveResult[] }> {
  const ids = validateRemoveOptions(options);
  const ready = await controlReady(ctx);
  const rows = ready ? await readTenantRows(ctx.pool, ctx, ids) : [];
  const present = new Set(rows.map((r) => r.id));
  const missing = ids.filter((id) => !present.has(id));
  const gone = options.purge && missing.length > 0 && ready ? await purgedIds(ctx.pool, ctx, missing) : new Set<string>();
  const unknown = missing.filter((id) => !gone.has(id));
  if (unknown.length > 0) throw unknownTenants(unknown);
  if (!options.dryRun) await ensureControlSchema(ctx);
  const results: RemoveResult[] = [];
  for (const t of ids.map((id) => rows.find((r) => r.id === id) ?? { id, schema: '' })) {
    if (!present.has(t.id)) {
      results.push({ id: t.id, status: 'gone', schema: '', rows: {}, totalRows: 0 });
      continue;
    }
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
    if (outcome.locked)
      return {
        id,
        status: 'skipped',
        schema,
        rows: {},
        totalRows: 0,
        reason: 'locked',
        error: 'another tenantctl run holds this tenant; retry when it finishes',
      };
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
  await logOperation(db, ctx, 'archive', row.id, {
    schema: row.schema,
    archivedSchema: archived,
    previousStatus: row.status,
    rows: counts,
    totalRows: totalRows(counts),
  });
}

async function purgeTenant(db: PoolClient, ctx: Context, row: TenantRow, counts: Record<string, number>): Promise<void> {
  await db.query(`DROP SCHEMA IF EXISTS ${ident(row.schema)} CASCADE`);
  if (row.role) await dropTenantRole(db, row.role);
  await deleteTenant(db, ctx, row.id);
  await logOperation(db, ctx, 'purge', row.id, {
    schema: row.schema,
    role: row.role,
    key: row.key,
    rows: counts,
    totalRows: totalRows(counts),
  });
}
