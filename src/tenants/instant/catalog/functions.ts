import type { Queryable } from '../../../db/types.js';

/**
 * Functions and procedures, as the server writes them (pg_get_functiondef),
 * in the order they were made; not those a type made for itself (a range
 * type's constructors), which its CREATE TYPE makes again. Those that need the tables at creation (a
 * table's or view's row type in their signature, or a BEGIN ATOMIC body, which
 * is parsed) are "late": they come after the tables, the others before them,
 * so that defaults and checks can call them (the script runs with
 * check_function_bodies off).
 */
const FUNCTIONS = `
SELECT pg_get_functiondef(p.oid) AS sql, (p.prosqlbody IS NOT NULL OR EXISTS (
    SELECT 1 FROM unnest(p.prorettype || coalesce(p.proallargtypes, p.proargtypes::oid[])) u(t)
    JOIN pg_type ty ON ty.oid = u.t JOIN pg_class c ON c.oid = ty.typrelid WHERE c.relkind <> 'c')) AS late
FROM pg_proc p WHERE p.pronamespace = $1 AND p.prokind IN ('f', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'i')
ORDER BY p.oid`;

export async function functionsSql(db: Queryable, schemaOid: number): Promise<{ early: string[]; late: string[] }> {
  const rows = (await db.query<{ sql: string; late: boolean }>(FUNCTIONS, [schemaOid])).rows;
  const text = (r: { sql: string }) => r.sql.trimEnd();
  return { early: rows.filter((r) => !r.late).map(text), late: rows.filter((r) => r.late).map(text) };
}
