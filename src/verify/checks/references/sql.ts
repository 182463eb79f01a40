// The references check's catalog query.
import { inTenantSchema, tenantSchema, tenantSchemaNamed, type Fleet } from '../../fleet-sql.js';

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
 * SQL, for a pg_class row `c`: not an index on columns only. Such an index, like a primary key or
 * unique constraint, depends on its table's columns (always in its own schema), its collations and
 * operator classes (not relations, functions or types): it can never point into another schema, so
 * its pg_depend rows are not read. An index with expressions or a predicate is read (they can call
 * any function or name any type).
 */
const NOT_PLAIN_INDEX = `CASE WHEN c.relkind IN ('i', 'I') THEN EXISTS (SELECT 1 FROM pg_index i WHERE i.indexrelid = c.oid AND (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL)) ELSE true END`;

/**
 * The objects of the selected tenants' schemas that can depend on something:
 * (classid, objid, nsp, own), as `objects(..., true)` lists them; `own` is the
 * relation a rule, constraint, default, trigger or policy belongs to (its
 * edges to that relation, most of all edges, stay in the schema and are not
 * looked up). Each
 * catalog is read once and its rows kept by a lookup in the fleet map; a row of
 * a catalog that belongs to a relation (rules, defaults, triggers, policies)
 * finds its schema through the relation, by oid (an index probe, once per
 * row: the LATERAL subquery is kept apart, else the planner repeats the
 * probe in the filter and in the output).
 */
function selectedObjects(): string {
  const rel = (relid: string) => `(SELECT c.relnamespace FROM pg_class c WHERE c.oid = ${relid})`;
  // [catalog, oid, schema, the relation the object belongs to (0: none), FROM, more conditions]
  const rows: [string, string, string, string, string, string][] = [
    ['pg_class', 'c.oid', 'c.relnamespace', '0', 'pg_class c', ` AND ${NOT_PLAIN_INDEX}`],
    ['pg_proc', 'p.oid', 'p.pronamespace', '0', 'pg_proc p', ''],
    ['pg_type', 't.oid', 't.typnamespace', '0', 'pg_type t', ` AND t.typtype IN ('d', 'e', 'r', 'm')`],
    ['pg_rewrite', 'rw.oid', rel('rw.ev_class'), 'rw.ev_class', 'pg_rewrite rw', ''],
    ['pg_constraint', 'co.oid', 'co.connamespace', 'co.conrelid', 'pg_constraint co', ` AND co.contype NOT IN ('p', 'u')`],
    ['pg_attrdef', 'ad.oid', rel('ad.adrelid'), 'ad.adrelid', 'pg_attrdef ad', ''],
    ['pg_trigger', 'tg.oid', rel('tg.tgrelid'), 'tg.tgrelid', 'pg_trigger tg', ' AND NOT tg.tgisinternal'],
    ['pg_policy', 'po.oid', rel('po.polrelid'), 'po.polrelid', 'pg_policy po', ''],
  ];
  return rows
    .map(
      ([cls, oid, nsp, own, from, more]) =>
        `SELECT '${cls}'::regclass::oid AS classid, ${oid} AS objid, o.nsp, ${own}::oid AS own FROM ${from} CROSS JOIN LATERAL (SELECT ${nsp} AS nsp${nsp.startsWith('(') ? ' OFFSET 0' : ''}) o
    WHERE ${inTenantSchema('o.nsp', 'selected')}${more}`,
    )
    .join('\n  UNION ALL\n  ');
}

/** SQL: the schema of the object (classid, objid) when it is a relation, a function or a type (by oid, an index probe each); else NULL. */
export const schemaOf = (classid: string, objid: string) => `CASE ${classid}
    WHEN 'pg_class'::regclass THEN (SELECT c.relnamespace FROM pg_class c WHERE c.oid = ${objid})
    WHEN 'pg_proc'::regclass THEN (SELECT p.pronamespace FROM pg_proc p WHERE p.oid = ${objid})
    WHEN 'pg_type'::regclass THEN (SELECT t.typnamespace FROM pg_type t WHERE t.oid = ${objid}) END`;

/**
 * Everything in a selected tenant's schema that points into another tenant's
 * schema, in one query:
 * - dependency: pg_depend edges (foreign keys, views and materialized views,
 *   triggers, column defaults and their sequences, policies, partitions,
 *   index and check expressions) from an object of one tenant schema to a
 *   relation, function or type of another;
 * - text: function bodies and settings that name another tenant's schema
 *   (plpgsql bodies record no dependencies);
 * - secdef: SECURITY DEFINER functions without a fixed search_path.
 * Rows: tenant, object, detail, kind, target (the other schema).
 * The plan is fixed by the query, not by the catalog statistics: the selected
 * tenants' objects are listed once (MATERIALIZED), each one's pg_depend rows
 * read by the (classid, objid) index in a LATERAL subquery kept apart
 * (OFFSET 0), each referenced object's schema found by oid and named through
 * the fleet map. Objects with an oid below 16384 are the system's own
 * (FirstNormalObjectId). Labels are computed for the reported rows only.
 */
export const referencesSql = (f: Fleet): string => `
WITH ${f.cte},
dep AS MATERIALIZED (
  ${selectedObjects()}
),
edge AS MATERIALIZED (
  SELECT dep.nsp, d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid, ${schemaOf('d.refclassid', 'd.refobjid')} AS ref_nsp
    FROM dep CROSS JOIN LATERAL (
      SELECT d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid FROM pg_depend d
       WHERE d.classid = dep.classid AND d.objid = dep.objid AND d.refobjid >= 16384 AND d.refclassid IN ('pg_class'::regclass, 'pg_proc'::regclass, 'pg_type'::regclass)
         AND NOT (d.refclassid = 'pg_class'::regclass AND d.refobjid = dep.own)
      OFFSET 0
    ) d
   WHERE dep.objid >= 16384
),
cross_edge AS (
  SELECT DISTINCT ${tenantSchema('e.nsp')} ->> 'tenant' AS tenant, e.classid, e.objid, e.objsubid, e.refclassid, e.refobjid,
         ${tenantSchema('e.ref_nsp')} ->> 'nspname' AS target, ${tenantSchema('e.ref_nsp')} ->> 'tenant' AS target_tenant
    FROM edge e
   WHERE e.ref_nsp <> e.nsp AND ${inTenantSchema('e.ref_nsp', 'all')}
),
txt AS (
  SELECT ${tenantSchema('p.pronamespace')} ->> 'tenant' AS tenant, p.pronamespace AS nsp, p.oid,
         coalesce(p.prosrc, '') || ' ' || coalesce(array_to_string(p.proconfig, ' '), '') AS body
    FROM pg_proc p WHERE ${inTenantSchema('p.pronamespace', 'selected')}
),
word AS (
  SELECT DISTINCT txt.tenant, txt.nsp, txt.oid, lower(m[1]) AS word
  FROM txt, regexp_matches(txt.body, '([A-Za-z_][A-Za-z0-9_$]*)', 'g') AS m
),
named AS (
  SELECT word.tenant, word.oid, word.word AS target, ${tenantSchemaNamed('word.word')} ->> 'tenant' AS target_tenant
    FROM word
   WHERE ${tenantSchemaNamed('word.word')} IS NOT NULL AND (${tenantSchemaNamed('word.word')} ->> 'oid')::oid <> word.nsp
)
SELECT e.tenant, ${label('e.classid', 'e.objid', 'e.objsubid')} AS object,
       'depends on ' || ${label('e.refclassid', 'e.refobjid')} || ' in schema ' || e.target || ' (tenant ' || e.target_tenant || ')' AS detail,
       'dependency' AS kind, e.target
  FROM cross_edge e
UNION ALL
SELECT n.tenant, ${label("'pg_proc'::regclass", 'n.oid')}, 'names schema ' || n.target || ' (tenant ' || n.target_tenant || ')', 'text', n.target
  FROM named n
UNION ALL
SELECT ${tenantSchema('p.pronamespace')} ->> 'tenant', 'function ' || ${FUNC},
       'is SECURITY DEFINER without a fixed search_path: it runs with its owner''s rights and the caller''s search_path', 'secdef', NULL
  FROM pg_proc p
 WHERE ${inTenantSchema('p.pronamespace', 'selected')} AND p.prosecdef AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS cfg WHERE cfg LIKE 'search\\_path=%')
ORDER BY 1, 2, 3`;
