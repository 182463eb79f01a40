import type { Queryable } from '../../../db/types.js';

/**
 * The schema's own types, in the order they were made (oid): enums, domains
 * (base type, collation, default, NOT NULL), composite types, range types.
 * Domain checks come later (domainChecks), after the functions they may call.
 */
const TYPES = `
SELECT t.oid, CASE t.typtype
  WHEN 'e' THEN format('CREATE TYPE %s AS ENUM (%s)', t.oid::regtype,
    (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid))
  WHEN 'd' THEN format('CREATE DOMAIN %s AS %s%s%s%s', t.oid::regtype, format_type(t.typbasetype, t.typtypmod),
    CASE WHEN t.typcollation <> b.typcollation THEN ' COLLATE ' || t.typcollation::regcollation::text ELSE '' END,
    CASE WHEN t.typdefaultbin IS NOT NULL THEN ' DEFAULT ' || pg_get_expr(t.typdefaultbin, 0) ELSE '' END,
    coalesce((SELECT string_agg(format(' CONSTRAINT %I NOT NULL', c.conname), '') FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'n'),
      CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END))
  WHEN 'c' THEN format('CREATE TYPE %s AS (%s)', t.oid::regtype,
    (SELECT string_agg(format('%I %s%s', a.attname, format_type(a.atttypid, a.atttypmod),
       CASE WHEN a.attcollation <> at.typcollation THEN ' COLLATE ' || a.attcollation::regcollation::text ELSE '' END), ', ' ORDER BY a.attnum)
     FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped))
  WHEN 'r' THEN format('CREATE TYPE %s AS RANGE (SUBTYPE = %s%s%s, MULTIRANGE_TYPE_NAME = %s)', t.oid::regtype, format_type(r.rngsubtype, NULL),
    CASE WHEN r.rngcollation <> 0 THEN ', COLLATION = ' || r.rngcollation::regcollation::text ELSE '' END,
    CASE WHEN r.rngsubopc <> (SELECT o.oid FROM pg_opclass o JOIN pg_am am ON am.oid = o.opcmethod
      WHERE am.amname = 'btree' AND o.opcintype = r.rngsubtype AND o.opcdefault) THEN ', SUBTYPE_OPCLASS = ' || (SELECT format('%I.%I', n.nspname, o.opcname)
      FROM pg_opclass o JOIN pg_namespace n ON n.oid = o.opcnamespace WHERE o.oid = r.rngsubopc) ELSE '' END,
    r.rngmultitypid::regtype)
  END AS sql
FROM pg_type t LEFT JOIN pg_type b ON b.oid = t.typbasetype LEFT JOIN pg_range r ON r.rngtypid = t.oid
WHERE t.typnamespace = $1 AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
ORDER BY t.oid`;

const DOMAIN_CHECKS = `
SELECT format('ALTER DOMAIN %s ADD CONSTRAINT %I %s', c.contypid::regtype, c.conname, pg_get_constraintdef(c.oid)) AS sql
FROM pg_constraint c JOIN pg_type t ON t.oid = c.contypid WHERE t.typnamespace = $1 AND c.contype = 'c' ORDER BY c.oid`;

export async function typesSql(db: Queryable, schemaOid: number): Promise<string[]> {
  return (await db.query<{ sql: string }>(TYPES, [schemaOid])).rows.map((r) => r.sql);
}

export async function domainChecksSql(db: Queryable, schemaOid: number): Promise<string[]> {
  return (await db.query<{ sql: string }>(DOMAIN_CHECKS, [schemaOid])).rows.map((r) => r.sql);
}
