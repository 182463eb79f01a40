import type { Context } from '../context.js';
import type { Queryable } from '../db/types.js';
import { tenantLockKeysOf } from '../db/locks.js';
import { ident, literal } from '../util/quote.js';
import { controlTable } from './table.js';

/**
 * The pool's statements on the control tables: which spare tenants are at the
 * head, claiming one for `tenant create`, and handing its journal to the new
 * id. A spare is at the head when the digest of its journal equals the digest
 * of the migration files (see journalDigestSql).
 */

/** md5 of a tenant's journal as "name checksum" lines sorted by name; the same digest the migration files give (headOf). */
function journalDigestSql(ctx: Pick<Context, 'config'>, tenantIdExpr: string): string {
  return `(SELECT md5(coalesce(string_agg(m.name || ' ' || m.checksum, E'\\n' ORDER BY m.name COLLATE "C"), ''))
     FROM ${controlTable(ctx.config, 'tenant_migrations')} m WHERE m.tenant_id = ${tenantIdExpr})`;
}

/**
 * For the prelude of a create transaction: the oldest spare at the head that
 * no other transaction holds, locked FOR UPDATE and with its tenant lock tried.
 * Columns tc_pool_id, tc_pool_schema, tc_pool_role, tc_pool_locked; no row when
 * the pool has none.
 */
export function claimSpareSql(ctx: Pick<Context, 'config'>, head: string): string {
  const table = controlTable(ctx.config, 'tenants');
  // OFFSET 0 keeps the journal digest out of the scan: spares are taken oldest first and only the
  // first ones are digested, however many spares (and journal rows each) there are.
  return `SELECT c.id AS tc_pool_id, c.schema_name AS tc_pool_schema, c.role_name AS tc_pool_role,
      pg_try_advisory_xact_lock(${tenantLockKeysOf(ctx.config.controlSchema, 'c.id')}) AS tc_pool_locked
    FROM (SELECT o.id, o.schema_name, o.role_name
            FROM (SELECT t.id, t.schema_name, t.role_name FROM ${table} t
                   WHERE t.pooled AND t.status = 'active' ORDER BY t.created_at, t.id OFFSET 0) o
           WHERE ${journalDigestSql(ctx, 'o.id')} = ${literal(head)}
           LIMIT 1 FOR UPDATE SKIP LOCKED) c`;
}

/**
 * Turns a claimed spare into the tenant `newId`, whose registry row the same
 * transaction inserted: the journal moves to it, the spare's row goes, and the
 * schema and role take the new names. SQL text for the COMMIT message.
 */
export function adoptSpareSql(
  ctx: Pick<Context, 'config'>,
  spare: { id: string; schema: string; role: string | null },
  tenant: { id: string; schema: string; role: string | null },
): string {
  const parts = [
    `UPDATE ${controlTable(ctx.config, 'tenant_migrations')} SET tenant_id = ${literal(tenant.id)} WHERE tenant_id = ${literal(spare.id)}`,
    `DELETE FROM ${controlTable(ctx.config, 'tenants')} WHERE id = ${literal(spare.id)} AND pooled`,
    `ALTER SCHEMA ${ident(spare.schema)} RENAME TO ${ident(tenant.schema)}`,
  ];
  if (spare.role && tenant.role) parts.push(`ALTER ROLE ${ident(spare.role)} RENAME TO ${ident(tenant.role)}`);
  return parts.join(';\n');
}

export interface PoolCounts {
  spares: number;
  atHead: number;
}

/** How many spares there are, and how many of them are at the head. */
export async function countSpares(db: Queryable, ctx: Pick<Context, 'config'>, head: string): Promise<PoolCounts> {
  const r = await db.query<PoolCounts>(
    `SELECT count(*)::int AS spares, count(*) FILTER (WHERE ${journalDigestSql(ctx, 't.id')} = $1)::int AS "atHead"
       FROM ${controlTable(ctx.config, 'tenants')} t WHERE t.pooled AND t.status = 'active'`,
    [head],
  );
  return r.rows[0]!;
}
