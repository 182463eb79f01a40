// The privileges check's one catalog query: the direct part (grants-sql.ts) and the reach part (reach-sql.ts) over the same objects.
import { inTenantSchema, tenantSchema, type Fleet, MEMBERSHIPS_CTE } from '../../fleet-sql.js';
import { directGrantee, grantsCtes, grantsRows } from './grants-sql.js';
import { reachCtes, reachedOther, reachRows } from './reach-sql.js';

const RELKIND = `CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
  WHEN 'f' THEN 'foreign table' ELSE 'table' END`;
const FUNC = `p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'`;

/**
 * Who can reach a selected tenant's objects, in one query: the fleet, pg_auth_members, the
 * selected tenants' objects (`obj`: schemas, relations, columns with an ACL, functions, each with
 * its raw ACL and owner) and every tenant role's chain of memberships (`reach`) are read once and
 * serve both parts; so do the ACL entries either part reports (`acl_entry`: each ACL exploded once, an entry kept
 * only when its grantee is PUBLIC, the shared role, another tenant's role or a role a tenant role
 * reaches, before anything is grouped). A function with no ACL is executable by PUBLIC: with
 * per-tenant roles on (`rolesOn`) tenantctl revokes that, so the direct part checks its default
 * ACL (`dflt`), the reach part its ACL as stored. Column grants are found by reading pg_attribute for the rare rows with an ACL,
 * each one's relation then looked up by oid (not one index probe per relation of the fleet).
 * `rolesOn`: the placeholder of per-tenant roles on (boolean); `dataRoles`: of DATA_ROLES (text[]).
 * Rows: tenant, object, detail, rule, level (NULL: the check's own).
 */
export const privilegesSql = (f: Fleet, rolesOn: string, dataRoles: string): string => `
WITH RECURSIVE ${f.cte},
${MEMBERSHIPS_CTE},
shared_role AS MATERIALIZED (SELECT oid FROM pg_roles WHERE rolname = ${f.sharedRole}),
obj AS MATERIALIZED (
  SELECT ${tenantSchema('n.oid')} ->> 'tenant' AS tenant, 'schema ' || n.nspname AS label, n.nspacl AS acl, n.nspowner AS owner, false AS fn
    FROM pg_namespace n WHERE ${inTenantSchema('n.oid', 'selected')}
  UNION ALL
  SELECT ${tenantSchema('c.relnamespace')} ->> 'tenant', ${RELKIND} || ' ' || c.relname, c.relacl, c.relowner, false
    FROM pg_class c WHERE ${inTenantSchema('c.relnamespace', 'selected')} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  UNION ALL
  SELECT ${tenantSchema('c.relnamespace')} ->> 'tenant', 'column ' || c.relname || '.' || a.attname, a.attacl, NULL, false
    FROM pg_attribute a CROSS JOIN LATERAL (SELECT c.relname, c.relnamespace FROM pg_class c WHERE c.oid = a.attrelid OFFSET 0) c
    WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped AND ${inTenantSchema('c.relnamespace', 'selected')}
  UNION ALL
  SELECT ${tenantSchema('p.pronamespace')} ->> 'tenant', 'function ' || ${FUNC}, p.proacl, p.proowner, true
    FROM pg_proc p WHERE ${inTenantSchema('p.pronamespace', 'selected')}
),
acl_entry AS MATERIALIZED (
  SELECT obj.tenant, obj.label, x.grantee, x.privilege_type, d.dflt
    FROM obj
    CROSS JOIN LATERAL (SELECT obj.fn AND obj.acl IS NULL AND ${rolesOn}::boolean AS dflt) d
    CROSS JOIN LATERAL aclexplode(CASE WHEN d.dflt THEN acldefault('f', obj.owner) ELSE obj.acl END) AS x
   WHERE ${directGrantee('x.grantee', 'obj.tenant')} OR (NOT d.dflt AND x.grantee <> 0 AND ${reachedOther('x.grantee')})
),${reachCtes(f)},${grantsCtes()}
${grantsRows(f)}
UNION ALL
${reachRows(f, dataRoles)}
ORDER BY 1 NULLS FIRST, 2, 3`;
