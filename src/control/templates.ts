import type { Context } from '../context.js';
import type { Queryable } from '../db/types.js';
import { controlTable } from './table.js';

/**
 * The captured tenant structure, one row per head (the migration files'
 * names and checksums): the script that makes a tenant at that head, and the
 * placeholder names in it that each new tenant's names replace.
 */
export interface Template {
  head: string;
  /** The template schema's and role's names, as the script spells them. */
  schema: string;
  role: string | null;
  /** The id and key the template was built with (migrations may write them into rows). */
  tenantId: string;
  tenantKey: string;
  script: string;
  /** No name of the template's is held as text (function bodies, settings, rows): a renamed schema is still identical. */
  renameSafe: boolean;
  /** Rows the migrations insert hold the tenant's id or key. */
  perTenant: boolean;
  /** The database user that captured it: the script makes that user the owner, as a replay by that user would. */
  capturedBy: string;
}

const COLUMNS = `head, schema_name AS schema, role_name AS role, tenant_id AS "tenantId", tenant_key AS "tenantKey", script,
  rename_safe AS "renameSafe", per_tenant AS "perTenant", captured_by AS "capturedBy"`;

/** The template captured at this head, if any. */
export async function readTemplate(db: Queryable, ctx: Pick<Context, 'config'>, head: string): Promise<Template | undefined> {
  const r = await db.query<Template>(`SELECT ${COLUMNS} FROM ${controlTable(ctx.config, 'templates')} WHERE head = $1`, [head]);
  return r.rows[0];
}

/** Keeps this capture (the first one at its head wins) and forgets captures at other heads. */
export async function saveTemplate(db: Queryable, ctx: Pick<Context, 'config'>, t: Omit<Template, 'capturedBy'>): Promise<void> {
  const table = controlTable(ctx.config, 'templates');
  await db.query(
    `WITH gone AS (DELETE FROM ${table} WHERE head <> $1)
     INSERT INTO ${table} (head, schema_name, role_name, tenant_id, tenant_key, script, rename_safe, per_tenant, captured_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, current_user) ON CONFLICT (head) DO NOTHING`,
    [t.head, t.schema, t.role, t.tenantId, t.tenantKey, t.script, t.renameSafe, t.perTenant],
  );
}
