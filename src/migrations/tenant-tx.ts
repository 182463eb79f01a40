import type { Context } from '../context.js';
import type { Queryable } from '../db/types.js';
import { TENANT_LOCK_KEYS } from '../db/locks.js';
import { literal } from '../util/quote.js';

/**
 * Opens a tenant's transaction: BEGIN with the configured timeouts, then the
 * tenant's advisory lock (held until COMMIT or ROLLBACK). Without `wait` a
 * lock held by another run returns false at once (the transaction is rolled
 * back); with `wait` it blocks for as long as it takes.
 */
export async function beginTenantTransaction(db: Queryable, ctx: Context, id: string, wait = false): Promise<boolean> {
  const { lockTimeout, statementTimeout } = ctx.config;
  await db.query(`BEGIN; SET LOCAL statement_timeout = ${literal(statementTimeout)}; SET LOCAL lock_timeout = ${wait ? "'0'" : literal(lockTimeout)}`);
  if (wait) {
    await db.query(`SELECT pg_advisory_xact_lock(${TENANT_LOCK_KEYS})`, [ctx.config.controlSchema, id]);
    await db.query(`SET LOCAL lock_timeout = ${literal(lockTimeout)}`);
    return true;
  }
  const r = await db.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(${TENANT_LOCK_KEYS}) AS ok`, [ctx.config.controlSchema, id]);
  if (r.rows[0]?.ok) return true;
  await db.query('ROLLBACK');
  return false;
}

/**
 * A tenant's search_path from $1 (its schema) and $2 (the shared schema):
 * pg_temp goes last, so a temporary table can never shadow a tenant's table.
 */
export const TENANT_SEARCH_PATH = `quote_ident($1) || ', ' || quote_ident($2) || ', pg_temp'`;

/**
 * What a session must shed before it serves another tenant or goes back to a
 * pool: session-level settings and role, and temporary tables.
 */
export const SESSION_RESET = 'RESET ROLE; RESET ALL; DISCARD TEMP';

/** Points unqualified names at the tenant schema, then the shared schema, for this transaction. */
export async function setTenantSearchPath(db: Queryable, ctx: Context, schema: string): Promise<void> {
  await db.query(`SELECT set_config('search_path', ${TENANT_SEARCH_PATH}, true)`, [schema, ctx.config.sharedSchema]);
}

/**
 * Ends a tenant's transaction. The worker's session goes on to the next tenant,
 * so anything a migration set at session level (SET ROLE, SET search_path without
 * LOCAL) is reset in the same round trip.
 */
export async function commitTenantTransaction(db: Queryable): Promise<void> {
  await db.query(`COMMIT; ${SESSION_RESET}`);
}

export async function rollbackQuietly(db: Queryable): Promise<void> {
  await db.query(`ROLLBACK; ${SESSION_RESET}`).catch(() => undefined);
}
