// The privileges check's direct part: grants, owners, role attributes and memberships, default privileges, CREATE on the shared schema.
import { inTenantSchema, tenantRole, tenantSchema, type Fleet } from '../../fleet-sql.js';

const OBJTYPE = `CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'
  WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' ELSE d.defaclobjtype::text END`;

/** SQL: is `grantee` of an ACL entry on an object of `tenant` PUBLIC, the shared role or another tenant's role? */
export const directGrantee = (grantee: string, tenant: string): string =>
  `(${grantee} = 0 OR ${grantee} IN (SELECT oid FROM shared_role) OR ${tenantRole(grantee)} ->> 'tenant' <> ${tenant})`;

/** The CTEs of the direct part, over `acl_entry`, `obj` and `reach` (see privilegesSql). */
export const grantsCtes = (): string => `
grants AS (
  SELECT e.tenant, e.label, e.grantee, string_agg(DISTINCT e.privilege_type, ', ') AS privs
    FROM acl_entry e
   WHERE ${directGrantee('e.grantee', 'e.tenant')}
   GROUP BY 1, 2, 3
),
dacl AS (
  SELECT d.defaclnamespace AS nsp, pg_get_userbyid(d.defaclrole) AS creator, ${OBJTYPE} AS objtype, x.grantee,
         string_agg(DISTINCT x.privilege_type, ', ') AS privs
    FROM pg_default_acl d, aclexplode(d.defaclacl) AS x
   GROUP BY 1, 2, 3, 4
)`;

/**
 * The direct part's rows (tenant, object, detail, rule, level NULL: the check's own): grant, owner,
 * role (a tenant role that is superuser or BYPASSRLS), member (a tenant role that reaches another
 * tenant's, through any chain: from `reach`), default, create.
 */
export const grantsRows = (f: Fleet): string => `
SELECT g.tenant, g.label AS object,
       CASE WHEN g.grantee = 0 THEN 'PUBLIC has ' || g.privs
            WHEN g.grantee IN (SELECT oid FROM shared_role) THEN 'the shared role ' || ${f.sharedRole} || ' (every tenant) has ' || g.privs
            ELSE 'role ' || (${tenantRole('g.grantee')} ->> 'rolname') || ' of tenant ' || (${tenantRole('g.grantee')} ->> 'tenant') || ' has ' || g.privs END AS detail,
       'grant' AS rule, NULL::text AS level
  FROM grants g
UNION ALL
SELECT obj.tenant, obj.label, 'is owned by role ' || (${tenantRole('obj.owner')} ->> 'rolname') || ' of tenant ' || (${tenantRole('obj.owner')} ->> 'tenant'), 'owner', NULL
  FROM obj WHERE ${tenantRole('obj.owner')} ->> 'tenant' <> obj.tenant
UNION ALL
SELECT tr.tenant, 'role ' || tr.rolname,
       concat_ws(' and ', CASE WHEN ro.rolsuper THEN 'is a superuser' END, CASE WHEN ro.rolbypassrls THEN 'bypasses row level security' END), 'role', NULL
  FROM tr JOIN pg_roles ro ON ro.oid = tr.oid
 WHERE tr.tenant = ANY(${f.selected}) AND (ro.rolsuper OR ro.rolbypassrls)
UNION ALL
SELECT DISTINCT r.tenant, 'role ' || pg_get_userbyid(r.member),
       'is a member of ' || (${tenantRole('r.roleid')} ->> 'rolname') || ' of tenant ' || (${tenantRole('r.roleid')} ->> 'tenant'), 'member', NULL
  FROM reach r WHERE r.tenant = ANY(${f.selected}) AND ${tenantRole('r.roleid')} ->> 'tenant' <> r.tenant
UNION ALL
SELECT ${tenantSchema('dacl.nsp')} ->> 'tenant', 'default privileges of ' || dacl.creator || ' on ' || dacl.objtype,
       'future ' || dacl.objtype || ' in schema ' || (${tenantSchema('dacl.nsp')} ->> 'nspname') || ' will grant ' || dacl.privs || ' to ' ||
       CASE WHEN dacl.grantee = 0 THEN 'PUBLIC'
            WHEN dacl.grantee IN (SELECT oid FROM shared_role) THEN 'the shared role ' || ${f.sharedRole} || ' (every tenant)'
            ELSE 'role ' || (${tenantRole('dacl.grantee')} ->> 'rolname') || ' of tenant ' || (${tenantRole('dacl.grantee')} ->> 'tenant') END, 'default', NULL
  FROM dacl
 WHERE ${inTenantSchema('dacl.nsp', 'selected')}
   AND (dacl.grantee = 0 OR dacl.grantee IN (SELECT oid FROM shared_role) OR ${tenantRole('dacl.grantee')} ->> 'tenant' <> (${tenantSchema('dacl.nsp')} ->> 'tenant'))
UNION ALL
SELECT o.tenant, 'default privileges of ' || dacl.creator || ' on ' || dacl.objtype,
       'future ' || dacl.objtype || ' that ' || dacl.creator || ' creates in any schema (other tenants'' too) will grant ' || dacl.privs || ' to role ' || o.rolname, 'default', NULL
  FROM dacl JOIN tr o ON o.oid = dacl.grantee WHERE dacl.nsp = 0 AND o.tenant = ANY(${f.selected})
UNION ALL
SELECT tr.tenant, 'role ' || tr.rolname, 'can CREATE in the shared schema ' || sh.nspname, 'create', NULL
  FROM tr JOIN pg_namespace sh ON sh.nspname = ${f.sharedSchema}
 WHERE tr.tenant = ANY(${f.selected}) AND has_schema_privilege(tr.oid, sh.oid, 'CREATE')
UNION ALL
SELECT NULL, 'default privileges of ' || dacl.creator || ' on ' || dacl.objtype,
       'future ' || dacl.objtype || ' that ' || dacl.creator || ' creates in any schema will grant ' || dacl.privs || ' to PUBLIC', 'default', NULL
  FROM dacl WHERE dacl.nsp = 0 AND dacl.grantee = 0 AND dacl.objtype IN ('tables', 'sequences')`;
