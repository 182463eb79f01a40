import type { Context } from '../context.js';
import { tenantLocked } from '../errors.js';
import { asCatalog, asTenant, inTransaction, withSession, type Tx } from '../db/session.js';
import type { PoolClient, Queryable } from '../db/types.js';

/**
 * The transaction a copy, move or clone runs in: the tenants' advisory locks
 * (the same keys migrate, create and remove take), taken without waiting before
 * BEGIN, so that the REPEATABLE READ snapshot is taken after they are held.
 * Every statement of the run sees that one snapshot, so a move deletes exactly
 * the rows it read and inserted, and a row changed meanwhile by the application
 * fails the run (serialization failure) instead of being lost; `hold` locks
 * what must not change (a move's source tables) before the snapshot. Catalog reads
 * run with search_path = pg_catalog, so type names come back qualified. A tenant
 * another run holds is exit 3, retry later.
 */
export async function inTransferSnapshot<T>(
  ctx: Context,
  lockIds: readonly string[],
  fn: (tx: Tx<PoolClient>) => Promise<T>,
  options: { hold?: string } = {},
): Promise<T> {
  return withSession(ctx.pool, async (client) => {
    // `hold` (a LOCK TABLE) comes first: the snapshot is taken after it is granted.
    const prelude = [...(options.hold ? [options.hold] : []), 'SET LOCAL search_path = pg_catalog'];
    const outcome = await inTransaction(
      client,
      ctx.config,
      { isolation: 'repeatable read', lock: { ids: lockIds, session: true }, prelude },
      fn,
    );
    if (outcome.locked) throw tenantLocked(outcome.id);
    return outcome.value;
  });
}

/**
 * For the statements that write a tenant's tables: its search_path and key
 * settings, as withTenant gives application code, so triggers and defaults
 * that read them behave as they would for the application.
 */
export async function actAs(db: Queryable, ctx: Context, tenant: { id: string; schema: string; key: string }): Promise<void> {
  await asTenant(db, ctx.config, tenant);
}

export async function catalogPath(db: Queryable): Promise<void> {
  await asCatalog(db);
}
