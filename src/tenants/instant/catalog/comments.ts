import type { Queryable } from '../../../db/types.js';

/**
 * Comments on the schema and on every object in it and its columns,
 * constraints, triggers, policies and rules, named as the server identifies
 * them (pg_identify_object, which qualifies every name).
 */
const COMMENTS = `
WITH mine AS (
  SELECT d.description, i.type, i.identity FROM pg_description d CROSS JOIN LATERAL pg_identify_object(d.classoid, d.objoid, d.objsubid) i
  WHERE (d.classoid = 'pg_namespace'::regclass AND d.objoid = $1)
    OR (d.classoid IN ('pg_class'::regclass, 'pg_proc'::regclass, 'pg_type'::regclass, 'pg_statistic_ext'::regclass) AND i.schema = quote_ident((SELECT nspname FROM pg_namespace WHERE oid = $1)))
    OR (d.classoid = 'pg_constraint'::regclass AND d.objoid IN (SELECT k.oid FROM pg_constraint k WHERE k.connamespace = $1 AND k.contypid = 0))
    OR (d.classoid = 'pg_trigger'::regclass AND d.objoid IN (SELECT t.oid FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = $1))
    OR (d.classoid = 'pg_policy'::regclass AND d.objoid IN (SELECT p.oid FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = $1))
    OR (d.classoid = 'pg_rewrite'::regclass AND d.objoid IN (SELECT r.oid FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class WHERE c.relnamespace = $1))
  UNION ALL
  SELECT d.description, 'constraint', format('%I ON DOMAIN %s', k.conname, k.contypid::regtype)
  FROM pg_description d JOIN pg_constraint k ON d.classoid = 'pg_constraint'::regclass AND d.objoid = k.oid JOIN pg_type t ON t.oid = k.contypid
  WHERE t.typnamespace = $1
)
SELECT format('COMMENT ON %s %s IS %L', CASE
    WHEN type LIKE '% column' THEN 'COLUMN'
    WHEN type = 'table constraint' THEN 'CONSTRAINT'
    WHEN type = 'composite type' THEN 'TYPE'
    WHEN type = 'statistics object' THEN 'STATISTICS'
    ELSE upper(type) END, identity, description) AS sql
FROM mine ORDER BY 1`;

export async function commentsSql(db: Queryable, schemaOid: number): Promise<string[]> {
  return (await db.query<{ sql: string }>(COMMENTS, [schemaOid])).rows.map((r) => r.sql);
}
