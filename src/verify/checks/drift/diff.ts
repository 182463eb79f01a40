// Compares a tenant's structure entries with its reference: missing, changed and extra objects.
import type { Finding } from '../../types.js';
import type { Entry } from './snapshot.js';

const SHOWN = 160;

function cut(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > SHOWN ? `${one.slice(0, SHOWN)}...` : one;
}

/**
 * A tenant's structure against its reference: missing (error), extra (warn)
 * and changed (error) objects. The columns, indexes, constraints and triggers
 * of a missing or extra table are folded into the table's own finding.
 */
export function diffStructure(tenant: string, version: string, expected: readonly Entry[], actual: readonly Entry[]): Finding[] {
  const key = (e: Entry) => `${e.kind} ${e.name}`;
  const want = new Map(expected.map((e) => [key(e), e]));
  const have = new Map(actual.map((e) => [key(e), e]));
  const gone = new Set([...want.values()].filter((e) => e.kind === 'table' && !have.has(key(e))).map((e) => e.name));
  const added = new Set([...have.values()].filter((e) => e.kind === 'table' && !want.has(key(e))).map((e) => e.name));
  const folded = (e: Entry, tables: Set<string>) => e.kind !== 'table' && tables.has(e.name.split('.')[0]!) && e.name.includes('.');
  const findings: Finding[] = [];
  for (const [k, e] of want) {
    const found = have.get(k);
    if (!found) {
      if (!folded(e, gone)) findings.push({ tenant, object: k, detail: `missing: the migrations up to ${version} create it`, level: 'error' });
    } else if (found.def !== e.def) {
      findings.push({ tenant, object: k, detail: `differs from the migrations: expected ${cut(e.def)}; found ${cut(found.def)}`, level: 'error' });
    }
  }
  for (const [k, e] of have) {
    if (!want.has(k) && !folded(e, added)) {
      findings.push({ tenant, object: k, detail: `extra: not created by the migrations up to ${version}`, level: 'warn' });
    }
  }
  return findings.sort((a, b) => (a.object < b.object ? -1 : a.object > b.object ? 1 : 0));
}
