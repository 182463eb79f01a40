// The privileges check's catalog query.
import { inTenantSchema, tenantRole, tenantSchema, type Fleet, MEMBERSHIPS_CTE, rolesOf } from '../../fleet-sql.js';

const RELKIND = `CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
  WHEN 'f' THEN 'foreign table' ELSE 'table' END`;
const FUNC = `p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'`;
const OBJTYPE = `CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'
  WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' ELSE d.defaclobjtype::text END`;

/**
 * Who can reach a selected tenant's objects, in one query. Column grants are
 * found by reading pg_attribute for the rare rows with an ACL, each one's
 * relation then looked up by oid (not one index probe per relation of the
 * fleet); ACL entries are kept only when their grantee is PUBLIC, the shared
 * role or another tenant's role, before they are grouped. `rolesOn`: the
 * placeholder of per-tenant roles on (functions with no ACL are then
 * executable by PUBLIC, which tenantctl revokes).
 * Rows: tenant, object, detail, kind (grant, owner, role, member, default, create).
 */
export const privilegesSql = (f: Fleet, rolesOn: string): string => `
WITH RECURSIVE ${f.cte},
${MEMBERSHIPS_CTE},
shared_role AS (SELECT oid FROM pg_roles WHERE rolname = ${f.sharedRole}),
obj AS MATERIALIZED (
  SELECT ${tenantSchema('n.oid')} ->> 'tenant' AS tenant, 'schema ' || n.nspname AS label, n.nspacl AS acl, n.nspowner AS owner
    FROM pg_namespace n WHERE ${inTenantSchema('n.oid', 'selected')}
  UNION ALL
  SELECT ${tenantSchema('c.relnamespace')} ->> 'tenant', ${RELKIND} || ' ' || c.relname, c.relacl, c.relowner
    FROM pg_class c WHERE ${inTenantSchema('c.relnamespace', 'selected')} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  UNION ALL
  SELECT ${tenantSchema('c.relnamespace')} ->> 'tenant', 'column ' || c.relname || '.' || a.attname, a.attacl, NULL
    FROM pg_attribute a CROSS JOIN LATERAL (SELECT c.relname, c.relnamespace FROM pg_class c WHERE c.oid = a.attrelid OFFSET 0) c
    WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped AND ${inTenantSchema('c.relnamespace', 'selected')}
  UNION ALL
  SELECT ${tenantSchema('p.pronamespace')} ->> 'tenant', 'function ' || ${FUNC},
         CASE WHEN p.proacl IS NULL AND ${rolesOn}::boolean THEN acldefault('f', p.proowner) ELSE p.proacl END, p.proowner
    FROM pg_proc p WHERE ${inTenantSchema('p.pronamespace', 'selected')}
),
grants AS (
  SELECT obj.tenant, obj.label, x.grantee, string_agg(DISTINCT x.privilege_type, ', ') AS privs
    FROM obj, aclexplode(obj.acl) AS x
   WHERE obj.acl IS NOT NULL
     AND (x.grantee = 0 OR x.grantee IN (SELECT oid FROM shared_role) OR ${tenantRole('x.grantee')} ->> 'tenant' <> obj.tenant)
   GROUP BY 1, 2, 3
),
up(member, tenant, roleid) AS (
  SELECT tr.oid, tr.tenant, m.roleid FROM tr, ${rolesOf('tr.oid')} WHERE tr.tenant = ANY(${f.selected})
  UNION
  SELECT up.member, up.tenant, m.roleid FROM up, ${rolesOf('up.roleid')}
),
dacl AS (
  SELECT d.defaclnamespace AS nsp, pg_get_userbyid(d.defaclrole) AS creator, ${OBJTYPE} AS objtype, x.grantee,
         string_agg(DISTINCT x.privilege_type, ', ') AS privs
    FROM pg_default_acl d, aclexplode(d.defaclacl) AS x
   GROUP BY 1, 2, 3, 4
)
SELECT g.tenant, g.label AS object,
       CASE WHEN g.grantee = 0 THEN 'PUBLIC has ' || g.privs
            WHEN g.grantee IN (SELECT oid FROM shared_role) THEN 'the shared role ' || ${f.sharedRole} || ' (every tenant) has ' || g.privs
            ELSE 'role ' || (${tenantRole('g.grantee')} ->> 'rolname') || ' of tenant ' || (${tenantRole('g.grantee')} ->> 'tenant') || ' has ' || g.privs END AS detail,
       'grant' AS kind
  FROM grants g
UNION ALL
SELECT obj.tenant, obj.label, 'is owned by role ' || (${tenantRole('obj.owner')} ->> 'rolname') || ' of tenant ' || (${tenantRole('obj.owner')} ->> 'tenant'), 'owner'
  FROM obj WHERE ${tenantRole('obj.owner')} ->> 'tenant' <> obj.tenant
UNION ALL
SELECT tr.tenant, 'role ' || tr.rolname,
       concat_ws(' and ', CASE WHEN ro.rolsuper THEN 'is a superuser' END, CASE WHEN ro.rolbypassrls THEN 'bypasses row level security' END), 'role'
  FROM tr JOIN pg_roles ro ON ro.oid = tr.oid
 WHERE tr.tenant = ANY(${f.selected}) AND (ro.rolsuper OR ro.rolbypassrls)
UNION ALL
SELECT DISTINCT up.tenant, 'role ' || pg_get_userbyid(up.member),
       'is a member of ' || (${tenantRole('up.roleid')} ->> 'rolname') || ' of tenant ' || (${tenantRole('up.roleid')} ->> 'tenant'), 'member'
  FROM up WHERE ${tenantRole('up.roleid')} ->> 'tenant' <> up.tenant
UNION ALL
SELECT ${tenantSchema('dacl.nsp')} ->> 'tenant', 'default privileges of ' || dacl.creator || ' on ' || dacl.objtype,
       'future ' || dacl.objtype || ' in schema ' || (${tenantSchema('dacl.nsp')} ->> 'nspname') || ' will grant ' || dacl.privs || ' to ' ||
       CASE WHEN dacl.grantee = 0 THEN 'PUBLIC'
            WHEN dacl.grantee IN (SELECT oid FROM shared_role) THEN 'the shared role ' || ${f.sharedRole} || ' (every tenant)'
            ELSE 'role ' || (${tenantRole('dacl.grantee')} ->> 'rolname') || ' of tenant ' || (${tenantRole('dacl.grantee')} ->> 'tenant') END, 'default'
  FROM dacl
 WHERE ${inTenantSchema('dacl.nsp', 'selected')}
   AND (dacl.grantee = 0 OR dacl.grantee IN (SELECT oid FROM shared_role) OR ${tenantRole('dacl.grantee')} ->> 'tenant' <> (${tenantSchema('dacl.nsp')} ->> 'tenant'))
UNION ALL
SELECT o.tenant, 'default privileges of ' || dacl.creator || ' on ' || dacl.objtype,
       'future ' || dacl.objtype || ' that ' || dacl.creator || ' creates in any schema (other tenants'' too) will grant ' || dacl.privs || ' to role ' || o.rolname, 'default'
  FROM dacl JOIN tr o ON o.oid = dacl.grantee WHERE dacl.nsp = 0 AND o.tenant = ANY(${f.selected})
UNION ALL
SELECT tr.tenant, 'role ' || tr.rolname, 'can CREATE in the shared schema ' || sh.nspname, 'create'
  FROM tr JOIN pg_namespace sh ON sh.nspname = ${f.sharedSchema}
 WHERE tr.tenant = ANY(${f.selected}) AND has_schema_privilege(tr.oid, sh.oid, 'CREATE')
UNION ALL
SELECT NULL, 'default privileges of ' || dacl.creator || ' on ' || dacl.objtype,
       'future ' || dacl.objtype || ' that ' || dacl.creator || ' creates in any schema will grant ' || dacl.privs || ' to PUBLIC', 'default'
  FROM dacl WHERE dacl.nsp = 0 AND dacl.grantee = 0 AND dacl.objtype IN ('tables', 'sequences')
ORDER BY 1 NULLS FIRST, 2, 3`;
