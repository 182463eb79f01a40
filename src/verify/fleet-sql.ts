// The fleet as SQL CTEs, and the builder that numbers each query's parameters.
import { sharedRoleName, tenantRoleName } from '../roles/names.js';
import type { VerifyScope } from './types.js';

/**
 * The fleet as SQL: every catalog check starts from these CTEs, so each is one
 * query for the whole fleet. Parameters $1..$9 (see fleetParams); a check binds
 * its own from $10 on.
 *
 *   reg(schema, tenant, role, status)  the registry, as bound arrays
 *   tn(oid, nspname, tenant, registered, selected)
 *       every existing tenant schema: registered, or named like one
 *       (prefix + a tenant id, optionally archived) without a registry row
 *   tr(oid, rolname, tenant)
 *       every existing tenant role: registered, or named tc<oid>_<id>
 */
export const FLEET_CTE = `
reg AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS r(schema, tenant, role, status)
),
tn AS (
  SELECT n.oid, n.nspname,
         coalesce(r.tenant, regexp_replace(substr(n.nspname, length($6) + 1), '\\$archived$', '')) AS tenant,
         r.tenant IS NOT NULL AS registered,
         coalesce(r.tenant = ANY($5::text[]), false) AS selected
  FROM pg_namespace n LEFT JOIN reg r ON r.schema = n.nspname
  WHERE r.schema IS NOT NULL
     OR (left(n.nspname, length($6)) = $6
         AND substr(n.nspname, length($6) + 1) ~ '^[a-z][a-z0-9_]{0,39}(\\$archived)?$'
         AND n.nspname NOT IN ($7, $8, 'public', 'information_schema') AND n.nspname !~ '^pg_')
),
tr AS (
  SELECT ro.oid, ro.rolname, coalesce(r.tenant, substr(ro.rolname, length($9) + 1)) AS tenant
  FROM pg_roles ro LEFT JOIN reg r ON r.role = ro.rolname
  WHERE r.role IS NOT NULL
     OR (left(ro.rolname, length($9)) = $9 AND substr(ro.rolname, length($9) + 1) ~ '^[a-z][a-z0-9_]{0,39}$')
)`;

/** The nine parameters FLEET_CTE reads. */
export function fleetParams(scope: VerifyScope): unknown[] {
  const { registry, tenants, ctx } = scope;
  return [
    registry.map((t) => t.schema),
    registry.map((t) => t.id),
    registry.map((t) => t.role),
    registry.map((t) => t.status),
    tenants.map((t) => t.id),
    ctx.config.schemaPrefix,
    ctx.config.sharedSchema,
    ctx.config.controlSchema,
    rolePrefix(scope),
  ];
}

/** Tenant roles are tc<oid>_<id>; the shared role tc<oid>__shared never matches (ids start with a letter). */
export function rolePrefix(scope: VerifyScope): string {
  return tenantRoleName(scope.databaseOid, '');
}

export function sharedRole(scope: VerifyScope): string {
  return sharedRoleName(scope.databaseOid);
}
