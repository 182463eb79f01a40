// The registry check: the registry and journal against the catalog and the disk.
import { fleetSql } from '../../fleet-sql.js';
import type { TenantWithJournal } from '../../../control/tenants.js';
import type { CheckDefinition, Finding, Level, VerifyScope } from '../../types.js';
import { citusOf } from '../../../citus/detect.js';
import { distributedSchemas } from '../../../citus/placement.js';
import { registrySql } from './sql.js';

const KINDS: Record<string, { level: Level; remediation: string }> = {
  orphan: { level: 'warn', remediation: 'drop the schema if it is left over, or re-register it; verify checks only registered tenants' },
  'orphan-role': { level: 'warn', remediation: 'DROP OWNED BY and DROP ROLE if it is left over from a purge' },
  missing: { level: 'error', remediation: 'restore the schema from a backup, or `tenantctl tenant remove --purge` the tenant' },
  'missing-role': { level: 'error', remediation: 'recreate the role (see docs/verify.md) or purge and recreate the tenant' },
  'archived-access': {
    level: 'error',
    remediation: 'REVOKE USAGE ON SCHEMA ... and REVOKE the shared role FROM the role; ALTER ROLE ... NOLOGIN',
  },
};

export const registryCheck: CheckDefinition = {
  id: 'registry',
  level: 'error',
  description:
    "schemas (and roles) named like a tenant's with no registry row, registry rows whose schema or role is gone, archived tenants whose roles still have access, two tenants with the same key, journal rows for migrations no longer on disk, on Citus tenant schemas that are not distributed",
  remediation: KINDS.missing!.remediation,
  catalog: true,
  async run(scope) {
    const f = fleetSql(scope);
    const sql = registrySql(f, f.params.add(scope.narrowed));
    const r = await scope.db.query<{ tenant: string; object: string; detail: string; kind: string }>(sql, f.params.values);
    const findings: Finding[] = r.rows.map((row) => ({
      rule: row.kind,
      tenant: row.tenant,
      object: row.object,
      detail: row.detail,
      ...KINDS[row.kind],
    }));
    findings.push(...sharedKeys(scope.registry, scope.tenants, scope.fleetKeys, scope.ctx.server));
    const files = await scope.migrations();
    for (const t of scope.tenants) {
      for (const j of t.journal) {
        if (files.byName.has(j.name)) continue;
        findings.push({
          tenant: t.id,
          rule: 'missing-file',
          object: `migration ${j.name}`,
          detail: `is in the journal (applied ${j.runOn.toISOString()}) but not on disk in ${files.dir}`,
          level: 'warn',
          remediation: 'put the migration file back (a deploy from an old branch?); migrate down and status need it',
        });
      }
    }
    findings.push(...(await notDistributed(scope)));
    return findings;
  },
};

/**
 * On a Citus coordinator every tenant schema is a distributed schema (its tables together on one worker,
 * movable with relocate); one that is not stays on the coordinator, outside what placement and relocate
 * see. One query, for every tenant.
 */
async function notDistributed(scope: VerifyScope): Promise<Finding[]> {
  if (scope.tenants.length === 0 || !(await citusOf(scope.ctx))) return [];
  const present = await scope.db.query<{ schema: string }>('SELECT nspname AS schema FROM pg_namespace WHERE nspname = ANY($1)', [
    scope.tenants.map((t) => t.schema),
  ]);
  const distributed = await distributedSchemas(
    scope.db,
    present.rows.map((r) => r.schema),
  );
  return scope.tenants
    .filter((t) => present.rows.some((r) => r.schema === t.schema) && !distributed.has(t.schema))
    .map((t) => ({
      rule: 'not-distributed',
      tenant: t.id,
      object: `schema ${t.schema}`,
      detail: 'is not a Citus distributed schema: its tables stay on the coordinator, outside placement and relocate',
      level: 'error' as const,
      remediation: `SELECT citus_schema_distribute('${t.schema}') on the coordinator (every table of the schema must then follow the Citus rules of docs/citus.md)`,
    }));
}

/**
 * Two tenants with the same key (archived ones included: their rows are still there), on this server
 * (any registry row of it) or anywhere in the fleet (keys are unique over the fleet: a tenant that
 * moves takes its key along): row level security and the ownership column cannot tell them apart,
 * so each sees the other's rows in the shared tables.
 */
export function sharedKeys(
  registry: readonly TenantWithJournal[],
  selected: readonly TenantWithJournal[],
  fleet: readonly { id: string; key: string; server: string }[] = [],
  server = 'default',
): Finding[] {
  const byKey = new Map<string, Map<string, string>>();
  const add = (key: string, id: string, where: string) => {
    const ids = byKey.get(key) ?? new Map<string, string>();
    if (!ids.has(id) || where === server) ids.set(id, where);
    byKey.set(key, ids);
  };
  for (const t of fleet) add(t.key, t.id, t.server);
  for (const t of registry) add(t.key, t.id, server);
  const findings: Finding[] = [];
  for (const t of selected) {
    const others = [...(byKey.get(t.key) ?? new Map<string, string>())].filter(([id]) => id !== t.id);
    if (others.length === 0) continue;
    const named = others.map(([id, where]) => (where === server ? id : `${id} (server ${where})`));
    findings.push({
      rule: 'duplicate-key',
      tenant: t.id,
      object: `tenant key '${t.key}'`,
      detail: others.some(([, where]) => where === server)
        ? `is also the key of tenant ${named.join(', ')}: each sees the other's rows in the shared tables, and ownership cannot tell their rows apart`
        : `is also the key of tenant ${named.join(', ')}: keys are unique over the fleet; once both are on one server (a relocation), each sees the other's rows in the shared tables`,
      level: 'error',
      remediation:
        "give one of them a key of its own: in one transaction, UPDATE its registry row's key and the ownership column of its rows (its schema's tables and the shared tables)",
    });
  }
  return findings;
}
