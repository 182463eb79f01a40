// The ownership check: rows whose ownership column is not their tenant's key.
import { countOffenders, probeJobs, runProbes, type Offenders, type ProbeOutcome } from './probes.js';
import { ownedTables } from './tables.js';
import type { CheckDefinition, Finding } from '../../types.js';

const REMEDIATION =
  "move the rows to the tenant they belong to (`tenantctl move`) or delete them, then fix the code path that wrote them (use withTenant(): the column's default is the tenant key)";

export const ownershipCheck: CheckDefinition = {
  id: 'ownership',
  level: 'error',
  description:
    "rows in a tenant's tables whose ownership column is not that tenant's key (NULL included), and tables lacking the column while the same table of other tenants has it",
  remediation: REMEDIATION,
  catalog: false,
  ownLane: true,
  async run(scope) {
    const { ctx } = scope;
    const column = ctx.config.ownershipColumn;
    const tables = await ownedTables(scope);
    const findings: Finding[] = tables
      .filter((t) => !t.hasColumn && t.othersHave)
      .map((t) => ({
        rule: 'no-column',
        tenant: t.tenant,
        object: t.table,
        detail: `has no ${column} column, while the same table of other tenants has one`,
        remediation: `add the column (ALTER TABLE ... ADD COLUMN ${column} ...) with a migration, filled with the tenant key`,
      }));
    const keys = new Map(scope.tenants.map((t) => [t.id, t.key]));
    const outcomes = await runProbes(scope.pool, probeJobs(tables, keys), scope.slots);
    const bad = outcomes.filter((o) => o.bad);
    const counts = await Promise.all(bad.map((o) => scope.slots.run('ownership', () => countOffenders(scope.pool, o))));
    bad.forEach((o, i) => findings.push(badRows(o, counts[i]!)));
    for (const o of outcomes) {
      if (o.error) findings.push(unprobeable(o));
      else if (!o.table.indexed) {
        findings.push({
          tenant: o.table.tenant,
          object: `${o.table.table}.${column}`,
          detail: `no btree index leads with ${column}: verified with a full scan (an index makes it two index probes)`,
          note: true,
        });
      }
    }
    return findings;
  },
};

function shown(value: string | null): string {
  return value === null ? 'NULL' : `'${value}'`;
}

function badRows(o: ProbeOutcome, found: Offenders): Finding {
  const column = o.table.column;
  const values = found.top.map((v) => `${shown(v.value)} (${v.rows})`).join(', ');
  const more = found.total > found.top.reduce((n, v) => n + v.rows, 0) ? ', ...' : '';
  return {
    rule: 'wrong-owner',
    tenant: o.table.tenant,
    object: o.table.table,
    detail: `${found.total} row${found.total === 1 ? '' : 's'} whose ${column} is not the tenant key '${o.key}': ${values}${more}`,
  };
}

function unprobeable(o: ProbeOutcome): Finding {
  return {
    rule: 'key-type',
    tenant: o.table.tenant,
    object: `${o.table.table}.${o.table.column}`,
    detail: `cannot compare with the tenant key '${o.key}' as ${o.table.typeLabel}: ${o.error!.message}`,
    remediation: "give the tenant a key of the column's type (tenant create --key), or change the column's type",
  };
}
