// The references check: objects that point into another tenant's schema, and non-tenant objects that bridge tenants.
import { fleetSql } from '../../fleet-sql.js';
import type { CheckDefinition, Finding } from '../../types.js';
import { bridgeSql } from './bridge-sql.js';
import { referencesSql } from './sql.js';

const REMEDIATION =
  "point the object at its own schema's objects (or the shared schema) with a migration; a default on another tenant's sequence is a clone bug: recreate the sequence in the tenant's schema and ALTER the default";

/** Remediation per rule (docs/verify.md lists the rules). */
const REMEDIATIONS: Record<string, string> = {
  'cross-tenant': REMEDIATION,
  'definer-search-path': 'pin it: ALTER FUNCTION ... SET search_path = pg_catalog, <tenant schema> (or drop SECURITY DEFINER)',
  'shared-bridge':
    "drop the object, or move what it does into each tenant's schema (a migration); an object outside the tenant schemas must not read or write any of them",
  'shared-dynamic': 'drop the function, or move it into the tenant schemas: a shared function must not build tenant schema names',
  'shared-definer':
    'REVOKE EXECUTE ON FUNCTION ... FROM PUBLIC and from the tenant roles, or make it SECURITY INVOKER, or give it an owner that reaches no tenant data',
  'owner-view':
    "ALTER VIEW ... SET (security_invoker = true) (PostgreSQL 15+); drop a materialized view over a table with row level security, or keep it out of tenants' reach",
};

type Row = { tenant: string | null; object: string; detail: string; kind?: string; rule?: string; target?: string | null };

export const referencesCheck: CheckDefinition = {
  id: 'references',
  level: 'error',
  description:
    "anything in a tenant's schema that points into another tenant's schema (foreign keys, views, functions, triggers, column defaults, policies, columns of another tenant's types, row types and arrays); SECURITY DEFINER functions without a fixed search_path; objects outside the tenant schemas that read or write a tenant schema (following the dependency graph), build tenant schema names, run tenants' calls with rights that reach tenant data (SECURITY DEFINER), or read a table with row level security with their owner's rights (views without security_invoker, materialized views)",
  remediation: REMEDIATION,
  catalog: true,
  async run(scope) {
    const f = fleetSql(scope);
    const r = await scope.db.query<Row>(referencesSql(f), f.params.values);
    const g = fleetSql(scope);
    const b = await scope.db.query<Row>(bridgeSql(g, g.params.add(scope.ctx.config.schemaPrefix, 'text')), g.params.values);
    // One finding per object and other schema: a dependency on a table says more than one on its index or a mention in text.
    const rank = (row: Row) => (row.kind === 'text' ? 2 : row.detail.startsWith('depends on index') ? 1 : 0);
    const best = new Map<string, Row>();
    for (const row of r.rows) {
      const key = row.target === null ? `${row.tenant}\0${row.object}\0${row.kind}` : `${row.tenant}\0${row.object}\0${row.target}`;
      const seen = best.get(key);
      if (!seen || rank(row) < rank(seen)) best.set(key, row);
    }
    const own = [...best.values()].map((row): Finding => {
      const rule = row.kind === 'secdef' ? 'definer-search-path' : 'cross-tenant';
      return { rule, tenant: row.tenant, object: row.object, detail: row.detail, remediation: REMEDIATIONS[rule] };
    });
    // A bridge is reported once per object and tenant reached, by its most direct path.
    const bridges = new Map<string, Finding>();
    for (const row of b.rows) {
      const key = `${row.rule}\0${row.tenant}\0${row.object}`;
      const seen = bridges.get(key);
      if (!seen || row.detail.length < seen.detail.length) {
        bridges.set(key, {
          rule: row.rule!,
          tenant: row.tenant,
          object: row.object,
          detail: row.detail,
          remediation: REMEDIATIONS[row.rule!],
        });
      }
    }
    return [...own, ...bridges.values()];
  },
};
