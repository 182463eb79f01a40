import type { Context } from '../context.js';
import type { Queryable } from '../db/types.js';
import { createTenantRole, ensureSharedRole, revokePublicSql } from '../roles/grants.js';
import { databaseOid, sharedRoleName, tenantRoleName } from '../roles/names.js';
import { ident } from '../util/quote.js';

/**
 * The new tenant's role, as create makes it (when roles are on): the shared
 * role made sure of, the tenant role created with its grants, the registry
 * row pointed at it. Returns the SQL to run after the migrations.
 */
export async function cloneRole(db: Queryable, ctx: Context, id: string, schema: string): Promise<{ name: string | null; epilogue: string }> {
  if (!ctx.config.roles) return { name: null, epilogue: '' };
  const oid = await databaseOid(db, ctx);
  const role = tenantRoleName(oid, id);
  const shared = sharedRoleName(oid);
  // Only when missing: its GRANTs rewrite shared tables' catalog rows, which concurrent creates touch too.
  const exists = (await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [shared])).rowCount === 1;
  if (!exists) await ensureSharedRole(db, ctx.config, shared);
  try {
    await createTenantRole(db, schema, role, shared);
  } catch (err) {
    if ((err as { code?: string }).code === '42710') {
      throw Object.assign(new Error(`role "${role}" already exists (left behind by a dropped database?); drop it with DROP ROLE, then retry`), { code: '42710' });
    }
    throw err;
  }
  await db.query(`UPDATE ${ident(ctx.config.controlSchema)}.tenants SET role_name = $2 WHERE id = $1`, [id, role]);
  return { name: role, epilogue: revokePublicSql(schema) };
}
