// Compares a tenant's structure entries with its reference: missing, changed and extra objects.
import type { Finding } from '../../types.js';
import type { Entry } from './snapshot.js';

const SHOWN = 160;

const REENABLE = 'ALTER TABLE ... ENABLE TRIGGER <name> (ENABLE RULE for a rule), or write a migration that disables it for every tenant';
const STATE = / \((disabled|enabled on replicas only|enabled always)\)$/;

/** A trigger or rule whose definition matches but whose enabled state does not: that state ('disabled'...), else null. */
function stateChange(expected: string, found: string): string | null {
  const m = STATE.exec(found);
  if (!m || STATE.test(expected) || found.slice(0, m.index) !== expected) return null;
  return m[1]!;
}

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
      if (!folded(e, gone))
        findings.push({ rule: 'missing', tenant, object: k, detail: `missing: the migrations up to ${version} create it`, level: 'error' });
    } else if (found.def !== e.def) {
      const state = stateChange(e.def, found.def);
      findings.push(
        state
          ? {
              rule: 'disabled',
              tenant,
              object: k,
              detail: `is ${state}, while the migrations leave it enabled: it does not run`,
              level: 'error',
              remediation: REENABLE,
            }
          : {
              rule: 'changed',
              tenant,
              object: k,
              detail: `differs from the migrations: expected ${cut(e.def)}; found ${cut(found.def)}`,
              level: 'error',
            },
      );
    }
  }
  for (const [k, e] of have) {
    if (!want.has(k) && !folded(e, added)) {
      findings.push({ rule: 'extra', tenant, object: k, detail: `extra: not created by the migrations up to ${version}`, level: 'warn' });
    }
  }
  return findings.sort((a, b) => (a.object < b.object ? -1 : a.object > b.object ? 1 : 0));
}
