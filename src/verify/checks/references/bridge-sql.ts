// The references check's query for the shared schema (and every other non-tenant schema) as a bridge between tenants.
import type { Fleet } from '../../fleet-sql.js';
import { inTenantSchema, isTenantRole, tenantSchema, tenantSchemaNamed } from '../../fleet-sql.js';
import { FUNC, label, objects, schemaOf } from './sql.js';

/**
 * Objects outside the tenant schemas (the shared schema, and any other schema
 * that is not the system's) that let one tenant reach another's rows, in one
 * query. Extension members are the extension's business and left out.
 * - bridge: an object that depends on (pg_depend) or names (function bodies
 *   and settings) an object of a tenant schema; then, following the
 *   dependency graph, every outside object that depends on one of those (a
 *   view over such a view, a trigger on a shared table that runs such a
 *   function). Reported for the tenant whose schema is reached.
 * - dynamic: a function body that builds tenant schema names from the prefix
 *   ('tenant_' || ...), so it can reach any tenant's schema.
 * - definer: a SECURITY DEFINER function that tenant roles or PUBLIC can
 *   execute, whose owner can read tenant data (superuser, BYPASSRLS, owner of
 *   a tenant's table or of a table with row level security, or USAGE on a
 *   tenant schema): whatever it reads, it reads with those rights.
 * - owner-view: a view that reads a table with row level security with its
 *   owner's rights (not security_invoker), or a materialized view of one (its
 *   rows are whatever the owner saw): outside the tenant schemas, or in a
 *   tenant's schema over a table outside them (a tenant's view over its own
 *   table sees that tenant's rows only).
 * Rows: tenant, object, detail, rule.
 */
export const bridgeSql = (f: Fleet, prefix: string): string => `
WITH RECURSIVE ${f.cte},
outside AS MATERIALIZED (
  SELECT n.oid, n.nspname FROM pg_namespace n
   WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' AND NOT ${inTenantSchema('n.oid', 'all')}
),
ext AS MATERIALIZED (
  SELECT d.classid, d.objid FROM pg_depend d WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
),
odep AS MATERIALIZED (
  SELECT o.classid, o.objid, o.nsp,
         CASE WHEN o.classid = 'pg_rewrite'::regclass THEN 'pg_class'::regclass::oid ELSE o.classid END AS as_classid,
         CASE WHEN o.classid = 'pg_rewrite'::regclass THEN (SELECT rw.ev_class FROM pg_rewrite rw WHERE rw.oid = o.objid) ELSE o.objid END AS as_objid
    FROM (${objects('outside', true)}) o
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = o.classid AND ext.objid = o.objid)
),
deps AS MATERIALIZED (
  SELECT d.classid, d.objid, d.refclassid, d.refobjid
    FROM odep o JOIN pg_depend d ON d.classid = o.classid AND d.objid = o.objid
   WHERE d.deptype IN ('n', 'a')
),
ofunc AS MATERIALIZED (
  SELECT p.oid, p.pronamespace AS nsp, p.prosecdef, p.proowner, coalesce(p.proacl, acldefault('f', p.proowner)) AS acl,
         coalesce(p.prosrc, '') || ' ' || coalesce(array_to_string(p.proconfig, ' '), '') AS body
    FROM pg_proc p JOIN outside ON outside.oid = p.pronamespace
   WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)
),
word AS (
  SELECT DISTINCT ofunc.oid, lower(m[1]) AS word
    FROM ofunc, regexp_matches(ofunc.body, '([A-Za-z_][A-Za-z0-9_$]*)', 'g') AS m
),
dref AS (
  SELECT d.classid, d.objid, d.refclassid, d.refobjid, ${tenantSchema(schemaOf('d.refclassid', 'd.refobjid'))} AS t
    FROM deps d
),
seed AS (
  SELECT o.classid, o.objid, o.nsp, o.as_classid, o.as_objid, d.t ->> 'tenant' AS tenant, d.t ->> 'nspname' AS target,
         'depends on ' || ${label('d.refclassid', 'd.refobjid')} || ' in schema ' || (d.t ->> 'nspname') AS why
    FROM dref d
    JOIN odep o ON o.classid = d.classid AND o.objid = d.objid
   WHERE d.t IS NOT NULL
  UNION
  SELECT 'pg_proc'::regclass::oid, w.oid, p.pronamespace, 'pg_proc'::regclass::oid, w.oid, w.word_tenant, w.word, 'names schema ' || w.word
    FROM (SELECT word.oid, word.word, ${tenantSchemaNamed('word.word')} ->> 'tenant' AS word_tenant FROM word) w
    JOIN pg_proc p ON p.oid = w.oid
   WHERE w.word_tenant IS NOT NULL
),
bridge(classid, objid, nsp, as_classid, as_objid, tenant, target, why) AS (
  SELECT * FROM seed
  UNION
  SELECT o.classid, o.objid, o.nsp, o.as_classid, o.as_objid, b.tenant, b.target,
         'depends on ' || ${label('b.as_classid', 'b.as_objid')} || ', which reaches schema ' || b.target
    FROM bridge b
    JOIN deps d ON d.refclassid = b.as_classid AND d.refobjid = b.as_objid
    JOIN odep o ON o.classid = d.classid AND o.objid = d.objid
   WHERE NOT (o.as_classid = b.as_classid AND o.as_objid = b.as_objid)
),
owner_reach AS MATERIALIZED (
  SELECT ro.oid,
         ro.rolsuper OR ro.rolbypassrls
         OR EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = ro.oid AND ${inTenantSchema('c.relnamespace', 'all')})
         OR EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = ro.oid AND c.relrowsecurity)
         OR EXISTS (SELECT 1 FROM tn WHERE has_schema_privilege(ro.oid, tn.oid, 'USAGE')) AS reaches
    FROM pg_roles ro WHERE ro.oid IN (SELECT proowner FROM ofunc WHERE prosecdef)
),
rls_view AS (
  SELECT v.oid, v.relname, v.relkind, v.relnamespace, t.relname AS base, bn.nspname AS base_schema, t.relnamespace AS base_nsp
    FROM pg_class t
    JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = t.oid AND d.classid = 'pg_rewrite'::regclass
    JOIN pg_rewrite rw ON rw.oid = d.objid
    JOIN pg_class v ON v.oid = rw.ev_class
    JOIN pg_namespace bn ON bn.oid = t.relnamespace
   WHERE t.relrowsecurity AND t.relkind IN ('r', 'p') AND v.relkind IN ('v', 'm') AND v.oid <> t.oid
     AND (v.relkind = 'm' OR NOT EXISTS (SELECT 1 FROM unnest(v.reloptions) AS opt WHERE lower(opt) ~ '^security_invoker=(true|on|yes|1|t|y)$'))
)
SELECT DISTINCT b.tenant, ${label('b.classid', 'b.objid')} AS object,
       'in schema ' || n.nspname || ', outside every tenant, ' || b.why || ' (tenant ' || b.tenant || '): a way into that tenant''s rows for whoever can use it' AS detail,
       'shared-bridge' AS rule
  FROM bridge b JOIN pg_namespace n ON n.oid = b.nsp
 WHERE ${inTenantSchema(`${tenantSchemaNamed('b.target')} ->> 'oid'`, 'selected')}
UNION ALL
SELECT NULL, 'function ' || ${FUNC},
       'in schema ' || outside.nspname || ' builds tenant schema names from the prefix ' || ${prefix} || ': it can reach any tenant''s schema', 'shared-dynamic'
  FROM ofunc JOIN pg_proc p ON p.oid = ofunc.oid JOIN outside ON outside.oid = ofunc.nsp
 WHERE position(quote_literal(${prefix}) IN ofunc.body) > 0 OR position('''' || ${prefix} || '%' IN ofunc.body) > 0
UNION ALL
SELECT NULL, 'function ' || ${FUNC},
       'in schema ' || outside.nspname || ' is SECURITY DEFINER, executable by ' ||
       (SELECT string_agg(DISTINCT CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END, ', ')
          FROM aclexplode(ofunc.acl) x WHERE x.grantee = 0 OR ${isTenantRole('x.grantee')} OR pg_get_userbyid(x.grantee) = ${f.sharedRole}) ||
       ', and its owner ' || pg_get_userbyid(ofunc.proowner) || ' can read tenant data: tenants call it with those rights', 'shared-definer'
  FROM ofunc JOIN pg_proc p ON p.oid = ofunc.oid JOIN outside ON outside.oid = ofunc.nsp JOIN owner_reach r ON r.oid = ofunc.proowner
 WHERE ofunc.prosecdef AND r.reaches
   AND EXISTS (SELECT 1 FROM aclexplode(ofunc.acl) x
                WHERE x.privilege_type = 'EXECUTE' AND (x.grantee = 0 OR ${isTenantRole('x.grantee')} OR pg_get_userbyid(x.grantee) = ${f.sharedRole}))
UNION ALL
SELECT DISTINCT ${tenantSchema('v.relnamespace')} ->> 'tenant', CASE v.relkind WHEN 'm' THEN 'materialized view ' ELSE 'view ' END || v.relname,
       'in schema ' || n.nspname || ' reads ' || v.base_schema || '.' || v.base || ', which has row level security, ' ||
       CASE v.relkind WHEN 'm' THEN 'and holds the rows its owner saw when refreshed'
            ELSE 'with its owner''s rights (not security_invoker): the owner''s view of the rows, not the reader''s' END, 'owner-view'
  FROM rls_view v JOIN pg_namespace n ON n.oid = v.relnamespace
 WHERE NOT ${inTenantSchema('v.relnamespace', 'all')}
    OR (${inTenantSchema('v.relnamespace', 'selected')} AND NOT ${inTenantSchema('v.base_nsp', 'all')})
ORDER BY 1 NULLS FIRST, 2, 3`;
