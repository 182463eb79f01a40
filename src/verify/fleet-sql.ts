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
 *   tr(oid, rolname, tenant, registered, login)
 *       every existing tenant role: registered, or named tc<oid>_<id>
 *
 *   fm_oid, fm_sel, fm_name (m)
 *       tn as jsonb maps, one row each: schema oid -> {tenant, nspname}, the
 *       selected schemas' oid -> tenant, schema name -> {oid, tenant}
 *   fr_oid, fr_name (m)
 *       tr as jsonb maps: role oid -> {tenant, rolname}, role name -> {oid, login}
 *
 * All are MATERIALIZED: each is computed once, and only when the query reads
 * it (a CTE no part of the query names is never run: at 10,000 tenants each
 * map costs 12 to 38 ms, and most queries read two of the five). A catalog
 * row is kept or named by its schema through a map (see inTenantSchema,
 * tenantSchema): a lookup in a map read once (an InitPlan), not a join, so no
 * plan can rescan the fleet or a catalog for every row of the other, whatever
 * the catalog statistics say (a database's are often template1's, which know
 * no tenant).
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
  SELECT ro.oid, ro.rolname, coalesce(r.tenant, substr(ro.rolname, length(${rolePrefixP}) + 1)) AS tenant, r.role IS NOT NULL AS registered,
         ro.rolcanlogin AS login
  FROM pg_roles ro LEFT JOIN reg r ON r.role = ro.rolname
  WHERE r.role IS NOT NULL
     OR (left(ro.rolname, length(${rolePrefixP})) = ${rolePrefixP} AND substr(ro.rolname, length(${rolePrefixP}) + 1) ~ '^[a-z][a-z0-9_]{0,39}$')
),
fm_oid AS MATERIALIZED (SELECT jsonb_object_agg(oid::text, jsonb_build_object('tenant', tenant, 'nspname', nspname)) AS m FROM tn),
fm_sel AS MATERIALIZED (SELECT coalesce(jsonb_object_agg(oid::text, tenant) FILTER (WHERE selected), '{}') AS m FROM tn),
fm_name AS MATERIALIZED (SELECT jsonb_object_agg(nspname, jsonb_build_object('oid', oid::text, 'tenant', tenant)) AS m FROM tn),
fr_oid AS MATERIALIZED (SELECT jsonb_object_agg(oid::text, jsonb_build_object('tenant', tenant, 'rolname', rolname)) AS m FROM tr),
fr_name AS MATERIALIZED (SELECT coalesce(jsonb_object_agg(rolname, jsonb_build_object('oid', oid::text, 'login', login)), '{}') AS m FROM tr)`;
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

/** SQL: is schema `nsp` (an oid expression) a tenant's (`all`), or a selected tenant's? A lookup in the fleet map, per row. */
export function inTenantSchema(nsp: string, which: 'all' | 'selected'): string {
  return `(SELECT m FROM ${which === 'all' ? 'fm_oid' : 'fm_sel'}) ? (${nsp})::text`;
}

/** SQL: the fleet map's entry for schema `nsp` (jsonb {tenant, nspname}; NULL for a schema that is no tenant's). */
export function tenantSchema(nsp: string): string {
  return `((SELECT m FROM fm_oid) -> (${nsp})::text)`;
}

/** SQL: the fleet map's entry for the schema named `name` (jsonb {oid, tenant}; NULL when no tenant's schema has that name). */
export function tenantSchemaNamed(name: string): string {
  return `((SELECT m FROM fm_name) -> (${name}))`;
}

/** SQL: the role map's entry for role `role` (an oid expression): jsonb {tenant, rolname}, NULL for a role that is no tenant's. */
export function tenantRole(role: string): string {
  return `((SELECT m FROM fr_oid) -> (${role})::text)`;
}

/** SQL: the role map's entry for the role named `name`: jsonb {oid, login}; NULL when no tenant's (or registered) role has that name. */
export function tenantRoleNamed(name: string): string {
  return `((SELECT m FROM fr_name) -> (${name}))`;
}

/** SQL: is role `role` (an oid expression) a tenant's? A lookup in the role map, per row. */
export function isTenantRole(role: string): string {
  return `(SELECT m FROM fr_oid) ? (${role})::text`;
}

/**
 * pg_auth_members as one row of a jsonb map, member oid -> [role oids], read once. Role chains are
 * followed through it (rolesOf), never by joining pg_auth_members with the fleet: a database's
 * statistics may say the catalog holds 3 rows (template1's, or a server that had few roles when it
 * was last analyzed), and the nested loop the planner then picks rereads it for every tenant role.
 */
export const MEMBERSHIPS_CTE = `am AS MATERIALIZED (
  SELECT coalesce(jsonb_object_agg(g.member::text, g.roles), '{}'::jsonb) AS by_member
    FROM (SELECT m.member, jsonb_agg(m.roleid) AS roles FROM pg_auth_members m GROUP BY m.member) g)`;

/** A FROM item: the roles `member` (an SQL expression) is a direct member of, as rows of `m.roleid`, looked up in am. */
export function rolesOf(member: string): string {
  return `LATERAL (SELECT r.roleid::oid AS roleid FROM jsonb_array_elements_text((SELECT am.by_member FROM am) -> (${member})::text) AS r(roleid)) m`;
}
