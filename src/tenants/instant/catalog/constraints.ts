import type { Queryable } from '../../../db/types.js';

/**
 * What comes after every table and its rows: foreign keys (inside the schema
 * or to shared tables) and NOT VALID checks; indexes that no constraint made
 * and no partitioned index cloned; extended statistics; triggers (and their
 * enabled state); rules; row level security and its policies.
 */
const CONSTRAINTS = `
SELECT format('ALTER TABLE %s ADD CONSTRAINT %I %s', k.conrelid::regclass, k.conname, pg_get_constraintdef(k.oid)) AS sql
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
WHERE c.relnamespace = $1 AND k.conparentid = 0 AND (k.contype = 'f' OR (k.contype = 'c' AND NOT k.convalidated AND k.conislocal))
ORDER BY k.oid`;

const INDEXES = `
SELECT regexp_replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ') AS sql FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relnamespace = $1
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x') AND k.conrelid = i.indrelid)
ORDER BY (SELECT count(*) FROM pg_partition_ancestors(i.indexrelid)) DESC, i.indexrelid`;

const STATISTICS = `SELECT pg_get_statisticsobjdef(oid) AS sql FROM pg_statistic_ext WHERE stxnamespace = $1 ORDER BY oid`;

const TRIGGERS = `
SELECT pg_get_triggerdef(t.oid) || CASE t.tgenabled WHEN 'O' THEN ''
  ELSE format('; ALTER TABLE %s %s TRIGGER %I', t.tgrelid::regclass,
    CASE t.tgenabled WHEN 'D' THEN 'DISABLE' WHEN 'R' THEN 'ENABLE REPLICA' ELSE 'ENABLE ALWAYS' END, t.tgname) END AS sql
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace = $1 AND NOT t.tgisinternal AND t.tgparentid = 0 ORDER BY t.oid`;

const RULES = `SELECT rtrim(pg_get_ruledef(r.oid), ';') AS sql FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
WHERE c.relnamespace = $1 AND r.rulename <> '_RETURN' ORDER BY r.oid`;

const SECURITY = `
SELECT format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', oid::regclass) AS sql, oid, 0 AS o FROM pg_class WHERE relnamespace = $1 AND relrowsecurity
UNION ALL SELECT format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', oid::regclass), oid, 1 FROM pg_class WHERE relnamespace = $1 AND relforcerowsecurity
UNION ALL SELECT format('CREATE POLICY %I ON %s AS %s FOR %s TO %s%s%s', p.polname, p.polrelid::regclass,
    CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
    CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
    (SELECT string_agg(CASE WHEN r.r = 0 THEN 'PUBLIC' ELSE quote_ident(a.rolname) END, ', ' ORDER BY a.rolname NULLS FIRST)
     FROM unnest(p.polroles) r(r) LEFT JOIN pg_roles a ON a.oid = r.r),
    ' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')', ' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')'),
  p.oid, 2 FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = $1
ORDER BY o, oid`;

async function statements(db: Queryable, sql: string, schemaOid: number): Promise<string[]> {
  return (await db.query<{ sql: string }>(sql, [schemaOid])).rows.map((r) => r.sql);
}

export const constraintsSql = (db: Queryable, schemaOid: number) => statements(db, CONSTRAINTS, schemaOid);
export const indexesSql = (db: Queryable, schemaOid: number) => statements(db, INDEXES, schemaOid);
export const statisticsSql = (db: Queryable, schemaOid: number) => statements(db, STATISTICS, schemaOid);
export const triggersSql = (db: Queryable, schemaOid: number) => statements(db, TRIGGERS, schemaOid);
export const rulesSql = (db: Queryable, schemaOid: number) => statements(db, RULES, schemaOid);
export const securitySql = (db: Queryable, schemaOid: number) => statements(db, SECURITY, schemaOid);
