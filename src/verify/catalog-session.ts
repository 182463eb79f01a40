// The catalog session: one connection set up for the catalog queries.
import type { Context } from '../context.js';
import type { PoolClient } from '../db/types.js';
import { withSession } from '../db/session.js';

/**
 * One connection for the catalog checks, set up once per run:
 * - JIT off (these queries are short, but their cost estimates are not, and
 *   compiling them would take longer than running them);
 * - no parallel workers (verify runs its checks side by side on every core already:
 *   a worker started for one catalog scan only adds its start-up);
 * - search_path = pg_catalog (every deparse then qualifies names the same way).
 * All are reset before the connection goes back to the pool (the session's reset).
 * No setting steers the plans' joins: the queries are written so that their plans do not
 * hinge on the catalog statistics (a database's are often template1's), see
 * docs/verify.md#speed.
 */
/** What a catalog session sets; a transaction on it that resets the session sets it again. */
export const CATALOG_SESSION_SETTINGS = 'SET jit = off; SET max_parallel_workers_per_gather = 0; SET search_path = pg_catalog';

export async function withCatalogSession<T>(ctx: Context, fn: (db: PoolClient) => Promise<T>): Promise<T> {
  return withSession(ctx.pool, async (client) => {
    await client.query(CATALOG_SESSION_SETTINGS);
    return fn(client);
  });
}
