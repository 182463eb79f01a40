import type pg from 'pg';

/**
 * What the database looks like, as text: every non-system schema's relations
 * and columns, constraints, functions, the roles the tenants use, ACLs, and the
 * control schema's rows. Two equal snapshots mean nothing changed.
 */
export async function snapshot(pool: pg.Pool, controlSchema = 'tenantctl'): Promise<string> {
  const parts: unknown[] = [];
  const q = async (sql: string, values: unknown[] = []) => (await pool.query(sql, values)).rows;
  parts.push(
    await q(`SELECT n.nspname, n.nspacl::text FROM pg_namespace n
             WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' ORDER BY 1`),
  );
  parts.push(
    await q(`SELECT n.nspname, c.relname, c.relkind, c.relacl::text,
               (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                  FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS cols
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' ORDER BY 1, 2`),
  );
  parts.push(
    await q(
      `SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace NOT IN (SELECT oid FROM pg_namespace WHERE nspname LIKE 'pg\\_%' OR nspname = 'information_schema') ORDER BY 1, 2`,
    ),
  );
  parts.push(
    await q(
      `SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' ORDER BY 1`,
    ),
  );
  parts.push(
    await q(
      `SELECT rolname FROM pg_roles WHERE rolname LIKE 'tc' || (SELECT oid FROM pg_database WHERE datname = current_database()) || '\\_%' ORDER BY 1`,
    ),
  );
  parts.push(
    await q(
      `SELECT defaclrole::regrole::text, defaclnamespace::regnamespace::text, defaclobjtype, defaclacl::text FROM pg_default_acl ORDER BY 1, 2, 3`,
    ),
  );
  const control = await q(`SELECT to_regclass($1) IS NOT NULL AS present`, [`"${controlSchema}".tenants`]);
  if (control[0]!.present) {
    for (const table of ['meta', 'tenants', 'tenant_migrations', 'shared_migrations', 'operations']) {
      parts.push(await q(`SELECT * FROM "${controlSchema}"."${table}" ORDER BY 1, 2`));
    }
  }
  return JSON.stringify(parts, null, 1);
}
