import type { Context } from '../context.js';
import type { Queryable } from '../db/types.js';

/**
 * Roles belong to the whole server, tenants to one database. Role names carry
 * the database's oid, which no two live databases on a server share, so a test
 * database beside another, or staging beside production, never collide.
 *   tenant role: tc<oid>_<id>     (at most 53 characters)
 *   shared role: tc<oid>__shared  (ids start with a letter, so no tenant takes it)
 */
export async function databaseOid(db: Queryable, ctx: Context): Promise<number> {
  if (ctx.cache.databaseOid === undefined) {
    const r = await db.query<{ oid: number }>('SELECT oid::int AS oid FROM pg_database WHERE datname = current_database()');
    ctx.cache.databaseOid = r.rows[0]!.oid;
  }
  return ctx.cache.databaseOid;
}

export function tenantRoleName(oid: number, id: string): string {
  return `tc${oid}_${id}`;
}

export function sharedRoleName(oid: number): string {
  return `tc${oid}__shared`;
}
