// The registry check's catalog query.
import { tenantRoleNamed, tenantSchemaNamed, type Fleet } from '../../fleet-sql.js';

/**
 * The registry against the catalog, in one query. Registered schemas and roles
 * are found through the fleet maps (tn and tr hold every existing one a
 * registry row names), not by joins or NOT EXISTS over the catalogs. `narrowed`: the placeholder
 * of --tenant (schemas and roles without a registry row are not about the
 * named tenants; left out). Rows: tenant, object, detail, kind.
 */
export const registrySql = (f: Fleet, narrowed: string): string => `
WITH ${f.cte},
shared_role AS (SELECT oid FROM pg_roles WHERE rolname = ${f.sharedRole}),
archived AS (
  SELECT reg.tenant, reg.role, (x.ro ->> 'oid')::oid AS role_oid, (x.ro ->> 'login')::boolean AS login,
         x.n IS NOT NULL AND has_schema_privilege((x.ro ->> 'oid')::oid, (x.n ->> 'oid')::oid, 'USAGE') AS usage,
         reg.schema AS nspname,
         coalesce((SELECT pg_has_role((x.ro ->> 'oid')::oid, sr.oid, 'MEMBER') FROM shared_role sr), false) AS shared
    FROM reg, LATERAL (SELECT ${tenantRoleNamed('reg.role')} AS ro, ${tenantSchemaNamed('reg.schema')} AS n) x
   WHERE reg.status = 'archived' AND reg.tenant = ANY(${f.selected}) AND x.ro IS NOT NULL
)
SELECT tn.tenant, 'schema ' || tn.nspname AS object,
       'is named like a tenant schema but has no registry row' AS detail, 'orphan' AS kind
  FROM tn WHERE NOT tn.registered AND NOT ${narrowed}::boolean
UNION ALL
SELECT tr.tenant, 'role ' || tr.rolname, 'is named like a tenant role but no tenant has it', 'orphan-role'
  FROM tr WHERE NOT tr.registered AND NOT ${narrowed}::boolean
UNION ALL
SELECT reg.tenant, 'schema ' || reg.schema, 'is in the registry (tenant ' || reg.status || ') but does not exist', 'missing'
  FROM reg WHERE reg.tenant = ANY(${f.selected}) AND ${tenantSchemaNamed('reg.schema')} IS NULL
UNION ALL
SELECT reg.tenant, 'role ' || reg.role, 'is in the registry but does not exist', 'missing-role'
  FROM reg WHERE reg.tenant = ANY(${f.selected}) AND reg.role IS NOT NULL AND ${tenantRoleNamed('reg.role')} IS NULL
UNION ALL
SELECT a.tenant, 'role ' || a.role,
       'belongs to an archived tenant but ' || concat_ws(', ',
         CASE WHEN a.usage THEN 'still has USAGE on ' || a.nspname END,
         CASE WHEN a.shared THEN 'is still a member of the shared role' END,
         CASE WHEN a.login THEN 'can log in' END), 'archived-access'
  FROM archived a WHERE a.usage OR a.shared OR a.login
ORDER BY 1, 2, 3`;
