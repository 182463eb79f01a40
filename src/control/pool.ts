import type { Context } from '../context.js';
import type { Queryable } from '../db/types.js';
import { tenantLockKeysOf } from '../db/locks.js';
import { ident, literal } from '../util/quote.js';
import { controlTable } from './table.js';
import { journalKeySql } from './journal.js';

/**
 * The pool's statements on the control tables: which spare tenants are at the
 * head, claiming one for `tenant create`, and handing its journal to the new
 * id. A spare is at the head when the digest of its journal equals the digest
 * of the migration files (see journalDigestSql).
 */

/**
 * md5 of the journal of the tenant row aliased `alias` as "name checksum" lines sorted by name; the same
 * digest the migration files give (headOf).
 */
function journalDigestSql(ctx: Pick<Context, 'config'>, alias: string): string {
  return `(SELECT md5(coalesce(string_agg(m.name || ' ' || m.checksum, E'\\n' ORDER BY m.name COLLATE "C"), ''))
     FROM ${controlTable(ctx.config, 'tenant_migrations')} m WHERE m.tenant_id = ${journalKeySql(alias)})`;
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
            FROM (SELECT t.id, t.journal_id, t.schema_name, t.role_name FROM ${table} t
                   WHERE t.pooled AND t.status = 'active' ORDER BY t.created_at, t.id OFFSET 0) o
           WHERE ${journalDigestSql(ctx, 'o')} = ${literal(head)}
           LIMIT 1 FOR UPDATE SKIP LOCKED) c`;
}

/**
 * Turns a claimed spare into the tenant `newId`, whose registry row the same
 * transaction inserted (taking the id under its lock): that row goes, and the
 * spare's row takes its id, key, name, config and names, keeping its journal
 * id, so its journal stays as it is, however long the history. The schema and
 * role take the new names. SQL text for the COMMIT message.
 */
export function adoptSpareSql(
  ctx: Pick<Context, 'config'>,
  spare: { id: string; schema: string; role: string | null },
  tenant: { id: string; schema: string; role: string | null },
): string {
  const table = controlTable(ctx.config, 'tenants');
  // The new row is deleted by the same statement that gives its id to the spare's row: the id's unique index
  // does not count a row this statement deleted. The new row has no journal yet (its cascade deletes nothing).
  const parts = [
    `WITH n AS (DELETE FROM ${table} WHERE id = ${literal(tenant.id)} AND NOT pooled RETURNING *)
     UPDATE ${table} s SET id = n.id, schema_name = n.schema_name, role_name = n.role_name, status = n.status, key = n.key,
       name = n.name, config = n.config, pooled = false, created_at = n.created_at, updated_at = n.updated_at
     FROM n WHERE s.id = ${literal(spare.id)} AND s.pooled`,
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
    `SELECT count(*)::int AS spares, count(*) FILTER (WHERE ${journalDigestSql(ctx, 't')} = $1)::int AS "atHead"
       FROM ${controlTable(ctx.config, 'tenants')} t WHERE t.pooled AND t.status = 'active'`,
    [head],
  );
  return r.rows[0]!;
}
