import type { Queryable } from '../../../db/types.js';
import { dependencyOrder } from './order.js';

/**
 * Tables and partitions, one CREATE TABLE each with its columns inline (type,
 * collation, identity with its sequence's name and options, generated
 * expression, default, NOT NULL) and its primary key, unique, exclusion and
 * valid check constraints; partitions as PARTITION OF their parent (whose
 * columns, defaults and constraints they take) after it. Foreign keys and
 * NOT VALID checks come later (constraints.ts).
 */
const COLUMN = `format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod))
  || CASE WHEN a.attcollation <> ty.typcollation THEN ' COLLATE ' || a.attcollation::regcollation::text ELSE '' END
  || CASE WHEN a.attgenerated = 's' THEN ' GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED'
     WHEN a.attidentity IN ('a', 'd') THEN (SELECT format(' GENERATED %s AS IDENTITY (SEQUENCE NAME %s START WITH %s INCREMENT BY %s MINVALUE %s MAXVALUE %s CACHE %s%s)',
       CASE a.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END, s.seqrelid::regclass, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache,
       CASE WHEN s.seqcycle THEN ' CYCLE' ELSE ' NO CYCLE' END)
       FROM pg_depend dep JOIN pg_sequence s ON s.seqrelid = dep.objid
       WHERE dep.classid = 'pg_class'::regclass AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum AND dep.deptype = 'i')
     WHEN d.adbin IS NOT NULL THEN ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END
  || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END`;

const INLINE_CONSTRAINTS = `SELECT format('CONSTRAINT %I %s', k.conname, pg_get_constraintdef(k.oid)) AS def, k.oid FROM pg_constraint k
  WHERE k.conrelid = c.oid AND k.conparentid = 0 AND (k.contype IN ('p', 'u', 'x') OR (k.contype = 'c' AND k.convalidated AND k.conislocal))`;

const TABLES = `
SELECT c.oid, (SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = c.oid AND c.relispartition) AS parent,
  format('CREATE %sTABLE %s', CASE c.relpersistence WHEN 'u' THEN 'UNLOGGED ' ELSE '' END, c.oid::regclass)
  || CASE WHEN c.relispartition THEN
       ' PARTITION OF ' || (SELECT i.inhparent::regclass::text FROM pg_inherits i WHERE i.inhrelid = c.oid)
       || coalesce((SELECT ' (' || string_agg(x.def, ', ' ORDER BY x.oid) || ')' FROM (${INLINE_CONSTRAINTS}) x), '')
       || ' ' || pg_get_expr(c.relpartbound, c.oid)
     ELSE ' (' || concat_ws(', ',
       (SELECT string_agg(${COLUMN}, ', ' ORDER BY a.attnum) FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
       (SELECT string_agg(x.def, ', ' ORDER BY x.oid) FROM (${INLINE_CONSTRAINTS}) x)) || ')'
     END
  || CASE WHEN c.relkind = 'p' THEN ' PARTITION BY ' || pg_get_partkeydef(c.oid) ELSE '' END
  || CASE WHEN c.reloptions IS NOT NULL THEN ' WITH (' || array_to_string(c.reloptions, ', ') || ')' ELSE '' END AS sql
FROM pg_class c WHERE c.relnamespace = $1 AND c.relkind IN ('r', 'p') ORDER BY c.oid`;

/** The CREATE TABLE statements, each partition after its parent. */
export async function tablesSql(db: Queryable, schemaOid: number): Promise<string[]> {
  const rows = (await db.query<{ oid: number; parent: number | null; sql: string }>(TABLES, [schemaOid])).rows;
  return dependencyOrder(rows, (r) => (r.parent === null ? [] : [r.parent]));
}
