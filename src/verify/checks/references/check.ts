// The references check: objects that point into another tenant's schema.
import { fleetSql } from '../../fleet-sql.js';
import type { CheckDefinition, Finding } from '../../types.js';
import { referencesSql } from './sql.js';

const REMEDIATION =
  "point the object at its own schema's objects (or the shared schema) with a migration; a default on another tenant's sequence is a clone bug: recreate the sequence in the tenant's schema and ALTER the default";

const SECDEF_REMEDIATION = 'pin it: ALTER FUNCTION ... SET search_path = pg_catalog, <tenant schema> (or drop SECURITY DEFINER)';

export const referencesCheck: CheckDefinition = {
  id: 'references',
  level: 'error',
  description:
    "anything in a tenant's schema that points into another tenant's schema (foreign keys, views, functions, triggers, column defaults, policies), and SECURITY DEFINER functions without a fixed search_path",
  remediation: REMEDIATION,
  catalog: true,
  async run(scope) {
    const f = fleetSql(scope);
    const r = await scope.db.query<{ tenant: string; object: string; detail: string; kind: string; target: string | null }>(
      referencesSql(f),
      f.params.values,
    );
    // One finding per object and other schema: a dependency on a table says more than one on its index or a mention in text.
    const rank = (row: { kind: string; detail: string }) => (row.kind === 'text' ? 2 : row.detail.startsWith('depends on index') ? 1 : 0);
    const best = new Map<string, (typeof r.rows)[number]>();
    for (const row of r.rows) {
      const key = row.target === null ? `${row.tenant}\0${row.object}\0${row.kind}` : `${row.tenant}\0${row.object}\0${row.target}`;
      const seen = best.get(key);
      if (!seen || rank(row) < rank(seen)) best.set(key, row);
    }
    return [...best.values()].map(
      (row): Finding => ({
        tenant: row.tenant,
        object: row.object,
        detail: row.detail,
        ...(row.kind === 'secdef' ? { remediation: SECDEF_REMEDIATION } : {}),
      }),
    );
  },
};
