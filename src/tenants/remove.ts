import { describeError, serverUnreachable, unknownTenants, usage } from '../errors.js';
import { controlReady, ensureControlSchema, readyVersion } from '../control/ensure.js';
import { logOperation, purgedIds, relocatedCopies, type RelocatedCopy } from '../control/oplog.js';
import { PLACEMENTS_SINCE, readPlacements, removePlacement, type Placement } from '../control/placements.js';
import { serverContext } from '../runtime/servers.js';
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
  /** Why a tenant was skipped (locked: another run holds it), or failed (unreachable: its server could not be reached, exit 3). */
  reason?: 'locked' | 'unreachable';
  /** The server it lived on, when not the home server. */
  server?: string;
  /** With --purge: the archived copies that relocations left on other servers, and what became of each. */
  copies?: RemovedCopy[];
}

/** An archived copy of a relocated tenant on a server it moved from. */
export interface RemovedCopy {
  server: string;
  schema: string;
  status: 'purged' | 'failed';
  error?: string;
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
 * an unknown tenant. Each tenant is removed on the server the placements map
 * puts it on; a tenant on another server is purged there first, then its
 * placement is removed (and the purge logged) on the home server, under its
 * lock there. A crash between the two leaves a placement pointing at a server
 * where the tenant is gone: the same command run again removes it (`gone`).
 * With --purge, the archived copies a `tenant relocate` left on the servers
 * the tenant moved from (the home server's log names them) are purged too.
 */
export async function removeTenants(ctx: Context, options: RemoveTenantsOptions): Promise<{ tenants: RemoveResult[] }> {
  const ids = validateRemoveOptions(options);
  const version = await readyVersion(ctx);
  const ready = version > 0;
  // A control schema older than the map (upgraded below, before any change) has every tenant at home.
  const placements = version >= PLACEMENTS_SINCE ? await readPlacements(ctx.pool, ctx, ids) : new Map<string, Placement>();
  const serverOf = (id: string) => placements.get(id)?.server ?? 'default';
  const rows = new Map<string, TenantRow>();
  const lost = new Map<string, string>();
  if (ready) {
    const byServer = new Map<string, string[]>();
    for (const id of ids) byServer.set(serverOf(id), [...(byServer.get(serverOf(id)) ?? []), id]);
    await Promise.all(
      [...byServer].map(async ([server, list]) => {
        try {
          const sctx = serverContext(ctx, server);
          for (const r of await readTenantRows(sctx.pool, sctx, list)) rows.set(r.id, r);
        } catch (err) {
          if (server === 'default') throw err;
          for (const id of list) lost.set(id, serverUnreachable(server, `cannot be reached: ${describeError(err)}`).message);
        }
      }),
    );
  }
  const missing = ids.filter((id) => !rows.has(id) && !lost.has(id));
  // Placed on a server that no longer has it: the purge finished there and the placement is what is left.
  const placedGone = new Set(missing.filter((id) => placements.has(id)));
  const homeMissing = missing.filter((id) => !placements.has(id));
  const gone = options.purge && homeMissing.length > 0 && ready ? await purgedIds(ctx.pool, ctx, homeMissing) : new Set<string>();
  const unknown = [...homeMissing.filter((id) => !gone.has(id)), ...(options.purge ? [] : [...placedGone])];
  if (unknown.length > 0) throw unknownTenants(unknown);
  if (!options.dryRun) await ensureControlSchema(ctx);
  const results: RemoveResult[] = [];
  for (const id of ids) {
    const server = serverOf(id);
    const where = server !== 'default' ? { server } : {};
    const t = rows.get(id);
    if (lost.has(id)) {
      results.push({ id, status: 'failed', schema: '', rows: {}, totalRows: 0, reason: 'unreachable', error: lost.get(id)!, ...where });
      continue;
    }
    if (!t) {
      if (placedGone.has(id) && !options.dryRun) results.push({ ...(await forgetPlacement(ctx, id, server, undefined)), ...where });
      else results.push({ id, status: 'gone', schema: '', rows: {}, totalRows: 0, ...where });
      continue;
    }
    const sctx = serverContext(ctx, server);
    if (options.dryRun) {
      const counts = await withSession(sctx.pool, (client) => countRows(client, t.schema));
      const status = options.purge ? 'would-purge' : 'would-archive';
      results.push({ id, status, schema: t.schema, rows: counts, totalRows: totalRows(counts), ...where });
      continue;
    }
    let removed: RemoveResult;
    try {
      if (server !== 'default') await ensureControlSchema(sctx);
      removed = await withSession(sctx.pool, (client) => removeOne(client, sctx, id, options.purge ?? false));
    } catch (err) {
      // Another server lost meanwhile fails its tenant (exit 3), not the run.
      if (server === 'default' || !isConnectionLoss(err)) throw err;
      const error = serverUnreachable(server, `cannot be reached: ${describeError(err)}`).message;
      results.push({ id, status: 'failed', schema: t.schema, rows: {}, totalRows: 0, reason: 'unreachable', error, server });
      continue;
    }
    if (server !== 'default' && removed.status === 'purged')
      results.push({ ...(await forgetPlacement(ctx, id, server, removed)), ...where });
    else results.push({ ...removed, ...where });
  }
  if (options.purge && !options.dryRun && ready) {
    const copies = await relocatedCopies(ctx.pool, ctx, ids);
    for (const r of results) {
      const mine = copies.filter((c) => c.id === r.id && c.server !== serverOf(r.id));
      if (mine.length > 0 && (r.status === 'purged' || r.status === 'gone')) r.copies = await purgeCopies(ctx, mine);
    }
  }
  return { tenants: results };
}

/**
 * The home server's half of purging a tenant of another server: its placement
 * removed and the purge logged, in one transaction under the id's lock there.
 * `removed` is the server's result (undefined on a rerun that finds the tenant gone there).
 */
async function forgetPlacement(ctx: Context, id: string, server: string, removed: RemoveResult | undefined): Promise<RemoveResult> {
  const result: RemoveResult = removed ?? { id, status: 'gone', schema: '', rows: {}, totalRows: 0 };
  return withSession(ctx.pool, async (client) => {
    const outcome = await inTransaction(client, ctx.config, { lock: { ids: [id] } }, async () => {
      await removePlacement(client, ctx, id);
      await logOperation(client, ctx, 'purge', id, {
        server,
        schema: result.schema,
        rows: result.rows,
        totalRows: result.totalRows,
        ...(removed ? {} : { placementOnly: true }),
      });
      return result;
    });
    if (outcome.locked)
      return { ...result, status: 'skipped', reason: 'locked', error: 'another tenantctl run holds this tenant; retry when it finishes' };
    return outcome.value;
  });
}

/** Purges the archived copies a relocation left on other servers: those still archived in the schema the log names. */
async function purgeCopies(ctx: Context, copies: readonly RelocatedCopy[]): Promise<RemovedCopy[]> {
  const out: RemovedCopy[] = [];
  for (const c of copies) {
    try {
      if (!ctx.servers.has(c.server)) {
        out.push({ server: c.server, schema: c.archivedSchema, status: 'failed', error: `no server named "${c.server}" in the config` });
        continue;
      }
      const sctx = serverContext(ctx, c.server);
      if (!(await controlReady(sctx))) continue;
      const [row] = await readTenantRows(sctx.pool, sctx, [c.id]);
      if (!row || row.status !== 'archived' || row.schema !== c.archivedSchema) continue;
      const r = await withSession(sctx.pool, (client) => removeOne(client, sctx, c.id, true));
      out.push({
        server: c.server,
        schema: c.archivedSchema,
        status: r.status === 'purged' ? 'purged' : 'failed',
        ...(r.error ? { error: r.error } : {}),
      });
    } catch (err) {
      out.push({ server: c.server, schema: c.archivedSchema, status: 'failed', error: describeError(err) });
    }
  }
  return out;
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
