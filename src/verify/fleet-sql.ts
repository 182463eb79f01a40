// The fleet as SQL CTEs, and the builder that numbers each query's parameters.
import { sharedRoleName, tenantRoleName } from '../roles/names.js';
import type { VerifyScope } from './types.js';

/**
 * A query's bound values: `add` appends one and returns its placeholder
 * (`$n`, with a cast when given), so no query text carries a hand-made number.
 */
export class SqlParams {
  readonly values: unknown[] = [];

  add(value: unknown, cast?: string): string {
    this.values.push(value);
    return cast ? `$${this.values.length}::${cast}` : `$${this.values.length}`;
  }
}

/**
 * The fleet of one server as SQL: every catalog check starts from these CTEs, so
 * each is one query per server, whatever the number of tenants.
 *
 *   reg(schema, tenant, role, status)  the server's registry rows, as bound arrays
 *       (its tenants, and the rows the placements map does not point at: those are
 *       no tenant, never selected, but their schemas and roles are not orphans)
 *   tn(oid, nspname, tenant, registered, selected)
 *       every existing tenant schema: registered, or named like one
 *       (prefix + a tenant id, optionally archived) without a registry row
 *   tr(oid, rolname, tenant)
 *       every existing tenant role: registered, or named tc<oid>_<id>
 *
 * All three are MATERIALIZED: they are small, and a check joins the large
 * catalogs (pg_depend, pg_class, pg_proc) to them on indexed oids, so the
 * plan does not hinge on the catalog statistics.
 */
export interface Fleet {
  params: SqlParams;
  /** The CTE definitions, to follow `WITH ` (or `WITH RECURSIVE `). */
  cte: string;
  /** Placeholders: the selected tenant ids (text[]), the shared and control schema names. */
  selected: string;
  sharedSchema: string;
  controlSchema: string;
  /** The shared role's name: bound on first use (a query may not bind a value it does not read). */
  readonly sharedRole: string;
}

export function fleetSql(scope: VerifyScope, params = new SqlParams()): Fleet {
  const { registry, tenants, ctx } = scope;
  const p = params;
  const schemas = p.add(
    registry.map((t) => t.schema),
    'text[]',
  );
  const ids = p.add(
    registry.map((t) => t.id),
    'text[]',
  );
  const roles = p.add(
    registry.map((t) => t.role),
    'text[]',
  );
  const statuses = p.add(
    registry.map((t) => t.status),
    'text[]',
  );
  const selected = p.add(
    tenants.map((t) => t.id),
    'text[]',
  );
  const prefix = p.add(ctx.config.schemaPrefix, 'text');
  const sharedSchema = p.add(ctx.config.sharedSchema, 'text');
  const controlSchema = p.add(ctx.config.controlSchema, 'text');
  const rolePrefixP = p.add(rolePrefix(scope), 'text');
  const cte = `
reg AS MATERIALIZED (
  SELECT * FROM unnest(${schemas}, ${ids}, ${roles}, ${statuses}) AS r(schema, tenant, role, status)
),
tn AS MATERIALIZED (
  SELECT n.oid, n.nspname,
         coalesce(r.tenant, regexp_replace(substr(n.nspname, length(${prefix}) + 1), '\\$archived$', '')) AS tenant,
         r.tenant IS NOT NULL AS registered,
         coalesce(r.tenant = ANY(${selected}), false) AS selected
  FROM pg_namespace n LEFT JOIN reg r ON r.schema = n.nspname
  WHERE r.schema IS NOT NULL
     OR (left(n.nspname, length(${prefix})) = ${prefix}
         AND substr(n.nspname, length(${prefix}) + 1) ~ '^[a-z][a-z0-9_]{0,39}(\\$archived)?$'
         AND n.nspname NOT IN (${sharedSchema}, ${controlSchema}, 'public', 'information_schema') AND n.nspname !~ '^pg_')
),
tr AS MATERIALIZED (
  SELECT ro.oid, ro.rolname, coalesce(r.tenant, substr(ro.rolname, length(${rolePrefixP}) + 1)) AS tenant
  FROM pg_roles ro LEFT JOIN reg r ON r.role = ro.rolname
  WHERE r.role IS NOT NULL
     OR (left(ro.rolname, length(${rolePrefixP})) = ${rolePrefixP} AND substr(ro.rolname, length(${rolePrefixP}) + 1) ~ '^[a-z][a-z0-9_]{0,39}$')
)`;
  let shared: string | undefined;
  return {
    params: p,
    cte,
    selected,
    sharedSchema,
    controlSchema,
    get sharedRole() {
      shared ??= p.add(sharedRole(scope), 'text');
      return shared;
    },
  };
}

/** Tenant roles are tc<oid>_<id>; the shared role tc<oid>__shared never matches (ids start with a letter). */
export function rolePrefix(scope: VerifyScope): string {
  return tenantRoleName(scope.databaseOid, '');
}

export function sharedRole(scope: VerifyScope): string {
  return sharedRoleName(scope.databaseOid);
}
