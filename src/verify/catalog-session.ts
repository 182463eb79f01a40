// The catalog session: one connection set up for the catalog queries.
import type { Context } from '../context.js';
import type { PoolClient } from '../db/types.js';
import { withClient } from '../db/with.js';

/**
 * One connection for the catalog checks, set up once per run: JIT off (these
 * queries are short, but their cost estimates are not, and compiling them
 * would take longer than running them) and search_path = pg_catalog (every
 * deparse then qualifies names the same way). Both are reset before the
 * connection goes back to the pool.
 */
export async function withCatalogSession<T>(ctx: Context, fn: (db: PoolClient) => Promise<T>): Promise<T> {
  return withClient(ctx.pool, async (client) => {
    await client.query('SET jit = off; SET search_path = pg_catalog');
    try {
      return await fn(client);
    } finally {
      await client.query('RESET jit; RESET search_path');
    }
  });
}
