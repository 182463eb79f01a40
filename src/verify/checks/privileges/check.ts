// The privileges check: who else can reach a tenant's objects.
import { fleetSql } from '../../fleet-sql.js';
import type { CheckDefinition, Finding, Level } from '../../types.js';
import { DATA_ROLES } from './reach-sql.js';
import { privilegesSql } from './sql.js';

const REMEDIATIONS: Record<string, string> = {
  grant: "REVOKE the privilege (REVOKE ... FROM PUBLIC / FROM the role); a tenant's objects are for its own role only",
  owner: "ALTER ... OWNER TO the migration role; a tenant role must not own anything in another tenant's schema",
  role: 'ALTER ROLE ... NOSUPERUSER NOBYPASSRLS: a tenant role must be an ordinary role',
  member: "REVOKE the other tenant's role FROM this role (and from any role in between)",
  default: 'ALTER DEFAULT PRIVILEGES ... REVOKE ... so that future objects are not granted to other tenants or PUBLIC',
  create: 'REVOKE CREATE ON SCHEMA <shared> FROM PUBLIC (and from the role): tenants only read the shared schema',
  'predefined-role': 'REVOKE <predefined role> FROM <role> (and from every role in between): a tenant role needs none of them',
  'role-reach':
    'ALTER ROLE ... NOCREATEROLE, and REVOKE the superuser, BYPASSRLS or CREATEROLE role FROM the tenant role (and every role in between)',
  'indirect-grant': "REVOKE the privilege FROM the role in between, or REVOKE that role FROM the other tenant's role",
  'control-grant':
    'REVOKE ALL ON SCHEMA <control> (and ON ALL TABLES, SEQUENCES, FUNCTIONS IN SCHEMA <control>) FROM PUBLIC and the roles named',
  'owned-outside': 'ALTER ... OWNER TO the migration role: a tenant role owns nothing outside its own schema',
};

export const privilegesCheck: CheckDefinition = {
  id: 'privileges',
  level: 'error',
  description:
    "grants on a tenant's schema, tables, sequences or functions to another tenant's role, the shared role or PUBLIC, or to a role another tenant's role reaches; objects owned by another tenant's role; tenant roles that are superuser, BYPASSRLS or CREATEROLE, or members (through any chain) of another tenant's role, of such a role or of a predefined role (pg_read_all_data...); default privileges that would leak future objects; tenant roles that can create in the shared schema; grants on the control schema to tenants or PUBLIC; objects outside a tenant's schema owned by its role",
  remediation: REMEDIATIONS.grant!,
  catalog: true,
  async run(scope) {
    const f = fleetSql(scope);
    const sql = privilegesSql(f, f.params.add(scope.ctx.config.roles), f.params.add(DATA_ROLES, 'text[]'));
    const r = await scope.db.query<{ tenant: string | null; object: string; detail: string; rule: string; level: Level | null }>(
      sql,
      f.params.values,
    );
    return r.rows.map(({ level, ...row }): Finding => ({ ...row, ...(level ? { level } : {}), remediation: REMEDIATIONS[row.rule] }));
  },
};
