// The rls check: row level security of the shared tables that hold every tenant's rows.
import { SqlParams } from '../../fleet-sql.js';
import type { CheckDefinition, Finding } from '../../types.js';
import { policyLeaks, type PolicyRow } from './policy.js';

const rlsSql = (schema: string, column: string): string => `
SELECT c.relname AS "table", c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
       coalesce((SELECT json_agg(json_build_object('name', p.polname, 'cmd', p.polcmd, 'permissive', p.polpermissive,
                   'using', pg_get_expr(p.polqual, p.polrelid), 'check', pg_get_expr(p.polwithcheck, p.polrelid)) ORDER BY p.polname)
                 FROM pg_policy p WHERE p.polrelid = c.oid), '[]'::json) AS policies
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = ${column} AND a.attnum > 0 AND NOT a.attisdropped
 WHERE n.nspname = ${schema} AND c.relkind IN ('r', 'p') AND NOT c.relispartition
 ORDER BY c.relname`;

export const rlsCheck: CheckDefinition = {
  id: 'rls',
  level: 'error',
  description:
    'shared-schema tables that carry the ownership column without row level security enabled and forced, or with a permissive policy that does not confine rows to the current tenant',
  remediation:
    "ALTER TABLE ... ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY, and a policy USING (tenant_id = current_setting('tenantctl.tenant_key', true)) WITH CHECK (the same)",
  catalog: true,
  async run(scope) {
    const { config } = scope.ctx;
    const p = new SqlParams();
    const sql = rlsSql(p.add(config.sharedSchema, 'name'), p.add(config.ownershipColumn, 'name'));
    const r = await scope.db.query<{ table: string; enabled: boolean; forced: boolean; policies: PolicyRow[] }>(sql, p.values);
    const findings: Finding[] = [];
    for (const t of r.rows) {
      const object = `${config.sharedSchema}.${t.table}`;
      if (!t.enabled) {
        findings.push({ tenant: null, object, detail: `has ${config.ownershipColumn} but row level security is not enabled: every tenant role that can read it sees every tenant's rows` });
        continue;
      }
      if (!t.forced) {
        findings.push({
          tenant: null,
          object,
          detail: 'row level security is enabled but not forced: the table owner bypasses it',
          level: 'warn',
          remediation: `ALTER TABLE ${object} FORCE ROW LEVEL SECURITY`,
        });
      }
      for (const p of t.policies) {
        for (const leak of policyLeaks(p, config.ownershipColumn)) findings.push({ tenant: null, object: `policy ${t.table}.${p.name}`, detail: leak });
      }
    }
    return findings;
  },
};
