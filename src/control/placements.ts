import type { Context } from '../context.js';
import type { Queryable } from '../db/types.js';
import { literal, qualified } from '../util/quote.js';
import { controlTable } from './table.js';

/**
 * The map of which tenant lives on which server, on the home server. A tenant
 * with no row here lives on the home server ("default"); one with a row lives
 * on that server, where the tenant is whole: its registry row, journal, schema
 * and role are in that server's own control schema, so a migration and its
 * journal entry still commit together. A row on another server that this map
 * does not point at is a leftover (an interrupted create or relocate), not a tenant.
 */
/** The control schema version that added the placements map. */
export const PLACEMENTS_SINCE = 3;

export interface Placement {
  id: string;
  server: string;
  key: string;
}

/** Every placement, or those of these ids: one query. */
export async function readPlacements(
  db: Queryable,
  ctx: Pick<Context, 'config'>,
  ids?: readonly string[],
): Promise<Map<string, Placement>> {
  const r = await db.query<Placement>(
    `SELECT tenant_id AS id, server, tenant_key AS key FROM ${controlTable(ctx.config, 'placements')}
     WHERE $1::text[] IS NULL OR tenant_id = ANY($1) ORDER BY tenant_id`,
    [ids ? [...ids] : null],
  );
  return new Map(r.rows.map((p) => [p.id, p]));
}

/** Records (or moves) where a tenant lives; a tenant placed on the home server has no row. */
export async function setPlacement(db: Queryable, ctx: Pick<Context, 'config'>, p: Placement): Promise<void> {
  if (p.server === 'default') {
    await removePlacement(db, ctx, p.id);
    return;
  }
  await db.query(
    `INSERT INTO ${controlTable(ctx.config, 'placements')} (tenant_id, server, tenant_key) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id) DO UPDATE SET server = EXCLUDED.server, tenant_key = EXCLUDED.tenant_key, placed_at = now()`,
    [p.id, p.server, p.key],
  );
}

export async function removePlacement(db: Queryable, ctx: Pick<Context, 'config'>, id: string): Promise<void> {
  await db.query(`DELETE FROM ${controlTable(ctx.config, 'placements')} WHERE tenant_id = $1`, [id]); // controlTable() quotes the name; the id is bound
}

/**
 * How many tenants each server holds, home ("default") included: the home
 * registry's tenants that are not spares of the pool and not placed elsewhere,
 * and the map's rows per server. One query, for the fewest-tenants placement.
 */
export async function tenantsPerServer(db: Queryable, ctx: Pick<Context, 'config'>): Promise<Map<string, number>> {
  const r = await db.query<{ server: string; n: number }>(
    `SELECT 'default' AS server, count(*)::int AS n FROM ${controlTable(ctx.config, 'tenants')} t
      WHERE NOT t.pooled AND t.status <> 'archived' AND NOT ${placedElsewhereSql(ctx, { alias: 't', column: 'id' })}
     UNION ALL
     SELECT server, count(*)::int FROM ${controlTable(ctx.config, 'placements')} GROUP BY server`,
  );
  return new Map(r.rows.map((x) => [x.server, x.n]));
}

/**
 * The clause that keeps an id placed elsewhere out of the home registry: for a
 * column of the query (`{ alias, column }`, quoted with qualified()) or for one
 * id (`{ id }`, a literal()).
 */
export function placedElsewhereSql(ctx: Pick<Context, 'config'>, of: { alias: string; column: string } | { id: string }): string {
  const id = 'id' in of ? literal(of.id) : qualified(of.alias, of.column);
  return `EXISTS (SELECT 1 FROM ${controlTable(ctx.config, 'placements')} p WHERE p.tenant_id = ${id})`;
}

/** The server the map puts a tenant id on: its placement's, else the home server. */
export function placedServer(placements: ReadonlyMap<string, Placement>, id: string): string {
  return placements.get(id)?.server ?? 'default';
}

/**
 * Whether a registry row read on `server` is a tenant: the map points at that server for its id (on
 * the home server: the id has no placement). Any other row is a leftover of an interrupted create or
 * relocation (or the archived copy a relocation left behind), not a tenant.
 */
export function isPlacedOn(placements: ReadonlyMap<string, Placement>, server: string, id: string): boolean {
  return placedServer(placements, id) === server;
}
