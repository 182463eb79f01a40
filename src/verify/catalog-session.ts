// The catalog session: one connection set up for the catalog queries.
import type { Context } from '../context.js';
import type { PoolClient } from '../db/types.js';
import { withSession } from '../db/session.js';

/**
 * One connection for the catalog checks, set up once per run:
 * - enable_nestloop = off: the catalog statistics of a database are often
 *   those it inherited from template1 (nobody runs ANALYZE on pg_depend), so
 *   the planner may think a join of the fleet's objects with pg_depend yields
 *   one row and rescan a large side for every row of the other (40 s instead
 *   of 0.04 s for the references check at 82 tenants). Without nested loops
 *   every join is a hash or merge join, linear in the catalogs whatever the
 *   estimates; lookups by oid stay index scans (they are subqueries, not joins);
 * - JIT off (these queries are short, but their cost estimates are not, and
 *   compiling them would take longer than running them);
 * - search_path = pg_catalog (every deparse then qualifies names the same way).
 * All are reset before the connection goes back to the pool (the session's reset).
 */
/** What a catalog session sets; a transaction on it that resets the session sets it again. */
export const CATALOG_SESSION_SETTINGS = 'SET jit = off; SET enable_nestloop = off; SET search_path = pg_catalog';

export async function withCatalogSession<T>(ctx: Context, fn: (db: PoolClient) => Promise<T>): Promise<T> {
  return withSession(ctx.pool, async (client) => {
    await client.query(CATALOG_SESSION_SETTINGS);
    return fn(client);
  });
}
