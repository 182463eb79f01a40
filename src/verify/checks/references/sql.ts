// The references check's catalog query.
import type { Fleet } from '../../fleet-sql.js';

/** `kind label` of a relation, from its relkind. */
const RELKIND = `CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
  WHEN 'i' THEN 'index' WHEN 'I' THEN 'index' WHEN 'c' THEN 'type' WHEN 'f' THEN 'foreign table' ELSE 'table' END`;

export const FUNC = `p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'`;

/** A readable name for the object (classid, objid), computed only for the rows reported. */
export function label(classid: string, objid: string, subid?: string): string {
  const column = subid
    ? `WHEN ${classid} = 'pg_class'::regclass AND ${subid} > 0 THEN (SELECT 'column ' || c.relname || '.' || a.attname FROM pg_class c
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ${subid} WHERE c.oid = ${objid})`
    : '';
  return `CASE ${column ? `${column} ELSE CASE ` : ''}${classid}
    WHEN 'pg_class'::regclass THEN (SELECT ${RELKIND} || ' ' || c.relname FROM pg_class c WHERE c.oid = ${objid})
    WHEN 'pg_rewrite'::regclass THEN (SELECT ${RELKIND} || ' ' || c.relname FROM pg_rewrite rw JOIN pg_class c ON c.oid = rw.ev_class WHERE rw.oid = ${objid})
    WHEN 'pg_constraint'::regclass THEN (SELECT CASE co.contype WHEN 'f' THEN 'foreign key ' ELSE 'constraint ' END || coalesce(c.relname || '.', '') || co.conname
                                           FROM pg_constraint co LEFT JOIN pg_class c ON c.oid = co.conrelid WHERE co.oid = ${objid})
    WHEN 'pg_attrdef'::regclass THEN (SELECT 'default of ' || c.relname || '.' || a.attname FROM pg_attrdef ad JOIN pg_class c ON c.oid = ad.adrelid
                                        JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum WHERE ad.oid = ${objid})
    WHEN 'pg_trigger'::regclass THEN (SELECT 'trigger ' || c.relname || '.' || tg.tgname FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid WHERE tg.oid = ${objid})
    WHEN 'pg_policy'::regclass THEN (SELECT 'policy ' || c.relname || '.' || po.polname FROM pg_policy po JOIN pg_class c ON c.oid = po.polrelid WHERE po.oid = ${objid})
    WHEN 'pg_proc'::regclass THEN (SELECT 'function ' || ${FUNC} FROM pg_proc p WHERE p.oid = ${objid})
    WHEN 'pg_type'::regclass THEN (SELECT CASE WHEN t.typtype = 'c' AND t.typrelid <> 0 THEN 'row type ' ELSE 'type ' END
                                          || CASE WHEN t.typcategory = 'A' THEN (SELECT e.typname || '[]' FROM pg_type e WHERE e.oid = t.typelem) ELSE t.typname END
                                     FROM pg_type t WHERE t.oid = ${objid})
  END${column ? ' END' : ''}`;
}

/**
 * The objects of the schemas in `schemas` (a CTE with oid) that can depend or
 * be depended on: (classid, objid, nsp). On the depending side only types that
 * can hold a reference (domains, enums, ranges); on the referenced side every
 * type: a column of another tenant's row type (composite), or an array of any
 * of its types, depends on that type.
 */
export function objects(schemas: string, withOwned: boolean): string {
  const rows = [
    `SELECT 'pg_class'::regclass::oid AS classid, c.oid AS objid, c.relnamespace AS nsp FROM pg_class c JOIN ${schemas} x ON x.oid = c.relnamespace`,
    `SELECT 'pg_proc'::regclass::oid, p.oid, p.pronamespace FROM pg_proc p JOIN ${schemas} x ON x.oid = p.pronamespace`,
    `SELECT 'pg_type'::regclass::oid, t.oid, t.typnamespace FROM pg_type t JOIN ${schemas} x ON x.oid = t.typnamespace${withOwned ? ` WHERE t.typtype IN ('d', 'e', 'r', 'm')` : ''}`,
  ];
  if (withOwned) {
    rows.push(
      `SELECT 'pg_rewrite'::regclass::oid, rw.oid, c.relnamespace FROM pg_rewrite rw JOIN pg_class c ON c.oid = rw.ev_class JOIN ${schemas} x ON x.oid = c.relnamespace`,
      `SELECT 'pg_constraint'::regclass::oid, co.oid, co.connamespace FROM pg_constraint co JOIN ${schemas} x ON x.oid = co.connamespace`,
      `SELECT 'pg_attrdef'::regclass::oid, ad.oid, c.relnamespace FROM pg_attrdef ad JOIN pg_class c ON c.oid = ad.adrelid JOIN ${schemas} x ON x.oid = c.relnamespace`,
      `SELECT 'pg_trigger'::regclass::oid, tg.oid, c.relnamespace FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN ${schemas} x ON x.oid = c.relnamespace WHERE NOT tg.tgisinternal`,
      `SELECT 'pg_policy'::regclass::oid, po.oid, c.relnamespace FROM pg_policy po JOIN pg_class c ON c.oid = po.polrelid JOIN ${schemas} x ON x.oid = c.relnamespace`,
    );
  }
  return rows.join('\n  UNION ALL\n  ');
}

/**
 * Everything in a selected tenant's schema that points into another tenant's
 * schema, in one query:
 * - dependency: pg_depend edges (foreign keys, views and materialized views,
 *   triggers, column defaults and their sequences, policies, partitions,
 *   index and check expressions) from an object of one tenant schema to an
 *   object of another;
 * - text: function bodies and settings that name another tenant's schema
 *   (plpgsql bodies record no dependencies);
 * - secdef: SECURITY DEFINER functions without a fixed search_path.
 * Rows: tenant, object, detail, kind, target (the other schema).
 * Objects with an oid below 16384 are the system's own (FirstNormalObjectId):
 * leaving their pg_depend rows out early keeps the join small. Labels are
 * computed for the reported rows only.
 */
export const referencesSql = (f: Fleet): string => `
WITH ${f.cte},
sel AS (SELECT * FROM tn WHERE selected),
dep AS (
  ${objects('sel', true)}
),
ref AS (
  ${objects('tn', false)}
),
edge AS (
  SELECT DISTINCT dt.tenant, d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid, rt.nspname AS target, rt.tenant AS target_tenant
    FROM pg_depend d
    JOIN dep ON dep.classid = d.classid AND dep.objid = d.objid
    JOIN ref ON ref.classid = d.refclassid AND ref.objid = d.refobjid
    JOIN tn dt ON dt.oid = dep.nsp
    JOIN tn rt ON rt.oid = ref.nsp
   WHERE dep.nsp <> ref.nsp AND d.objid >= 16384 AND d.refobjid >= 16384
),
txt AS (
  SELECT sel.tenant, sel.oid AS nsp, p.oid,
         coalesce(p.prosrc, '') || ' ' || coalesce(array_to_string(p.proconfig, ' '), '') AS body
    FROM pg_proc p JOIN sel ON sel.oid = p.pronamespace
),
word AS (
  SELECT DISTINCT txt.tenant, txt.nsp, txt.oid, lower(m[1]) AS word
  FROM txt, regexp_matches(txt.body, '([A-Za-z_][A-Za-z0-9_$]*)', 'g') AS m
)
SELECT e.tenant, ${label('e.classid', 'e.objid', 'e.objsubid')} AS object,
       'depends on ' || ${label('e.refclassid', 'e.refobjid')} || ' in schema ' || e.target || ' (tenant ' || e.target_tenant || ')' AS detail,
       'dependency' AS kind, e.target
  FROM edge e
UNION ALL
SELECT word.tenant, ${label("'pg_proc'::regclass", 'word.oid')}, 'names schema ' || tn.nspname || ' (tenant ' || tn.tenant || ')', 'text', tn.nspname
  FROM word JOIN tn ON tn.nspname = word.word
 WHERE tn.oid <> word.nsp
UNION ALL
SELECT sel.tenant, 'function ' || ${FUNC}, 'is SECURITY DEFINER without a fixed search_path: it runs with its owner''s rights and the caller''s search_path', 'secdef', NULL
  FROM pg_proc p JOIN sel ON sel.oid = p.pronamespace
 WHERE p.prosecdef AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS cfg WHERE cfg LIKE 'search\\_path=%')
ORDER BY 1, 2, 3`;
