// The privileges check: who else can reach a tenant's objects.
import { fleetSql } from '../../fleet-sql.js';
import type { CheckDefinition, Finding } from '../../types.js';
import { privilegesSql } from './sql.js';

const REMEDIATIONS: Record<string, string> = {
  grant: 'REVOKE the privilege (REVOKE ... FROM PUBLIC / FROM the role); a tenant\'s objects are for its own role only',
  owner: 'ALTER ... OWNER TO the migration role; a tenant role must not own anything in another tenant\'s schema',
  role: 'ALTER ROLE ... NOSUPERUSER NOBYPASSRLS: a tenant role must be an ordinary role',
  member: 'REVOKE the other tenant\'s role FROM this role (and from any role in between)',
  default: 'ALTER DEFAULT PRIVILEGES ... REVOKE ... so that future objects are not granted to other tenants or PUBLIC',
  create: 'REVOKE CREATE ON SCHEMA <shared> FROM PUBLIC (and from the role): tenants only read the shared schema',
};

export const privilegesCheck: CheckDefinition = {
  id: 'privileges',
  level: 'error',
  description:
    "grants on a tenant's schema, tables, sequences or functions to another tenant's role, the shared role or PUBLIC; objects owned by another tenant's role; tenant roles that are superuser, BYPASSRLS or members of another tenant's role; default privileges that would leak future objects; tenant roles that can create in the shared schema",
  remediation: REMEDIATIONS.grant!,
  catalog: true,
  async run(scope) {
    const f = fleetSql(scope);
    const sql = privilegesSql(f, f.params.add(scope.ctx.config.roles));
    const r = await scope.db.query<{ tenant: string | null; object: string; detail: string; kind: string }>(sql, f.params.values);
    return r.rows.map((row): Finding => ({ tenant: row.tenant, object: row.object, detail: row.detail, remediation: REMEDIATIONS[row.kind] }));
  },
};
