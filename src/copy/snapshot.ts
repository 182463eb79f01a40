import { TENANT_LOCK_KEYS } from '../db/locks.js';
import type { Context } from '../context.js';
import { DatabaseError } from '../errors.js';
import type { Pool, PoolClient, Queryable } from '../db/types.js';
import { isConnectionLoss } from '../db/with.js';
import { literal } from '../util/quote.js';
import { TENANT_SEARCH_PATH } from '../migrations/tenant-tx.js';

/**
 * Runs fn on one connection holding the tenants' advisory locks (the same
 * keys migrate, create and remove take), taken in sorted id order, without
 * waiting: a tenant another run holds is exit 3, retry later.
 *
 * The locks are session-level and taken before BEGIN, so that the
 * transaction's REPEATABLE READ snapshot is taken after they are held: a run
 * that finished with the tenant just before is seen in full. They are
 * released after COMMIT or ROLLBACK; a connection that cannot release them is
 * destroyed, which releases them too.
 */
export async function withTenantLocks<T>(pool: Pool, ctx: Context, ids: readonly string[], fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const held: string[] = [];
  let broken: Error | undefined;
  let threw = false;
  try {
    for (const id of [...new Set(ids)].sort()) {
      const r = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${TENANT_LOCK_KEYS}) AS ok`, [ctx.config.controlSchema, id]);
      if (!r.rows[0]?.ok) throw new DatabaseError('tenant_locked', `another tenantctl run holds tenant "${id}"; retry when it finishes`, { id });
      held.push(id);
    }
    return await fn(client);
  } catch (err) {
    threw = true;
    if (isConnectionLoss(err)) broken = err as Error;
    throw err;
  } finally {
    if (!broken) {
      try {
        // fn ends its own transaction; after a throw, make sure of it before unlocking.
        if (threw) await client.query('ROLLBACK').catch(() => undefined);
        for (const id of held) await client.query(`SELECT pg_advisory_unlock(${TENANT_LOCK_KEYS})`, [ctx.config.controlSchema, id]);
      } catch (err) {
        broken = err as Error;
      }
    }
    client.release(broken);
  }
}

/**
 * BEGIN ISOLATION LEVEL REPEATABLE READ with the configured timeouts: every
 * statement of the run sees the same snapshot, so a move deletes exactly the
 * rows it read and inserted, and a row changed meanwhile by the application
 * fails the run (serialization failure) instead of being lost. Catalog reads
 * run with search_path = pg_catalog, so type names come back qualified.
 */
export async function beginSnapshot(db: Queryable, ctx: Context): Promise<void> {
  const { lockTimeout, statementTimeout } = ctx.config;
  await db.query(
    `BEGIN ISOLATION LEVEL REPEATABLE READ; SET LOCAL statement_timeout = ${literal(statementTimeout)}; SET LOCAL lock_timeout = ${literal(lockTimeout)}; SET LOCAL search_path = pg_catalog`,
  );
}

/**
 * For the statements that write a tenant's tables: its search_path and key
 * settings, as withTenant gives application code, so triggers and defaults
 * that read them behave as they would for the application.
 */
export async function actAs(db: Queryable, ctx: Context, tenant: { id: string; schema: string; key: string }): Promise<void> {
  await db.query(
    `SELECT set_config('search_path', ${TENANT_SEARCH_PATH}, true),
       set_config('tenantctl.tenant_id', $3, true), set_config('tenantctl.tenant_key', $4, true)`,
    [tenant.schema, ctx.config.sharedSchema, tenant.id, tenant.key],
  );
}

export async function catalogPath(db: Queryable): Promise<void> {
  await db.query('SET LOCAL search_path = pg_catalog');
}
