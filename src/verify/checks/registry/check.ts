// The registry check: the registry and journal against the catalog and the disk.
import { tenantMigrations } from '../../../runtime/migration-files.js';
import { fleetSql } from '../../fleet-sql.js';
import type { CheckDefinition, Finding, Level } from '../../types.js';
import { registrySql } from './sql.js';

const KINDS: Record<string, { level: Level; remediation: string }> = {
  orphan: { level: 'warn', remediation: 'drop the schema if it is left over, or re-register it; verify checks only registered tenants' },
  'orphan-role': { level: 'warn', remediation: 'DROP OWNED BY and DROP ROLE if it is left over from a purge' },
  missing: { level: 'error', remediation: 'restore the schema from a backup, or `tenantctl tenant remove --purge` the tenant' },
  'missing-role': { level: 'error', remediation: 'recreate the role (see docs/verify.md) or purge and recreate the tenant' },
  'archived-access': { level: 'error', remediation: 'REVOKE USAGE ON SCHEMA ... and REVOKE the shared role FROM the role; ALTER ROLE ... NOLOGIN' },
};

export const registryCheck: CheckDefinition = {
  id: 'registry',
  level: 'error',
  description:
    'schemas (and roles) named like a tenant\'s with no registry row, registry rows whose schema or role is gone, archived tenants whose roles still have access, journal rows for migrations no longer on disk',
  remediation: KINDS.missing!.remediation,
  catalog: true,
  async run(scope) {
    const f = fleetSql(scope);
    const sql = registrySql(f, f.params.add(scope.narrowed));
    const r = await scope.db.query<{ tenant: string; object: string; detail: string; kind: string }>(sql, f.params.values);
    const findings: Finding[] = r.rows.map((row) => ({ tenant: row.tenant, object: row.object, detail: row.detail, ...KINDS[row.kind] }));
    const files = await tenantMigrations(scope.ctx);
    for (const t of scope.tenants) {
      for (const j of t.journal) {
        if (files.byName.has(j.name)) continue;
        findings.push({
          tenant: t.id,
          object: `migration ${j.name}`,
          detail: `is in the journal (applied ${j.runOn.toISOString()}) but not on disk in ${files.dir}`,
          level: 'warn',
          remediation: 'put the migration file back (a deploy from an old branch?); migrate down and status need it',
        });
      }
    }
    return findings;
  },
};
