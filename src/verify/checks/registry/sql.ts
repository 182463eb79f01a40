// The registry check's catalog query.
import type { Fleet } from '../../fleet-sql.js';

/**
 * The registry against the catalog, in one query. `narrowed`: the placeholder
 * of --tenant (schemas and roles without a registry row are not about the
 * named tenants; left out). Rows: tenant, object, detail, kind.
 */
export const registrySql = (f: Fleet, narrowed: string): string => `
WITH ${f.cte},
shared_role AS (SELECT oid FROM pg_roles WHERE rolname = ${f.sharedRole}),
archived AS (
  SELECT reg.tenant, reg.role, ro.oid AS role_oid, ro.rolcanlogin AS login,
         n.oid IS NOT NULL AND has_schema_privilege(ro.oid, n.oid, 'USAGE') AS usage,
         n.nspname,
         coalesce((SELECT pg_has_role(ro.oid, sr.oid, 'MEMBER') FROM shared_role sr), false) AS shared
    FROM reg JOIN pg_roles ro ON ro.rolname = reg.role LEFT JOIN pg_namespace n ON n.nspname = reg.schema
   WHERE reg.status = 'archived' AND reg.tenant = ANY(${f.selected})
)
SELECT tn.tenant, 'schema ' || tn.nspname AS object,
       'is named like a tenant schema but has no registry row' AS detail, 'orphan' AS kind
  FROM tn WHERE NOT tn.registered AND NOT ${narrowed}::boolean
UNION ALL
SELECT tr.tenant, 'role ' || tr.rolname, 'is named like a tenant role but no tenant has it', 'orphan-role'
  FROM tr WHERE NOT tr.registered AND NOT ${narrowed}::boolean
UNION ALL
SELECT reg.tenant, 'schema ' || reg.schema, 'is in the registry (tenant ' || reg.status || ') but does not exist', 'missing'
  FROM reg WHERE reg.tenant = ANY(${f.selected}) AND NOT EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = reg.schema)
UNION ALL
SELECT reg.tenant, 'role ' || reg.role, 'is in the registry but does not exist', 'missing-role'
  FROM reg WHERE reg.tenant = ANY(${f.selected}) AND reg.role IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = reg.role)
UNION ALL
SELECT a.tenant, 'role ' || a.role,
       'belongs to an archived tenant but ' || concat_ws(', ',
         CASE WHEN a.usage THEN 'still has USAGE on ' || a.nspname END,
         CASE WHEN a.shared THEN 'is still a member of the shared role' END,
         CASE WHEN a.login THEN 'can log in' END), 'archived-access'
  FROM archived a WHERE a.usage OR a.shared OR a.login
ORDER BY 1, 2, 3`;
