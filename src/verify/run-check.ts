// Runs one check (counting its statements) and turns findings into violations and per-tenant verdicts.
import {
  fails,
  type CheckDefinition,
  type CheckResult,
  type FailOn,
  type Note,
  type TenantVerdict,
  type Violation,
  type VerifyScope,
} from './types.js';
import type { TenantWithJournal } from '../control/tenants.js';
import { counted } from './counted.js';

export interface CheckOutcome {
  result: CheckResult;
  violations: Violation[];
  notes: Note[];
}

/** Runs one check and turns its findings into violations (level and remediation filled in) and notes. */
export async function runCheck(check: CheckDefinition, shared: Omit<VerifyScope, 'pool'>, failOn: FailOn): Promise<CheckOutcome> {
  const t0 = performance.now();
  const sent = { n: 0 };
  const scope: VerifyScope = { ...shared, db: counted(shared.db, sent), pool: counted(shared.ctx.pool, sent) };
  const findings = await check.run(scope);
  const notes = findings
    .filter((f) => f.note)
    .map((f): Note => ({ check: check.id, tenant: f.tenant, object: f.object, detail: f.detail }));
  const violations = findings
    .filter((f) => !f.note)
    .map((f): Violation => ({
      check: check.id,
      rule: f.rule ?? check.id,
      tenant: f.tenant,
      object: f.object,
      detail: f.detail,
      level: f.level ?? check.level,
      remediation: f.remediation ?? check.remediation,
    }));
  const result: CheckResult = {
    name: check.id,
    ok: !violations.some((v) => fails(v.level, failOn)),
    violations: violations.length,
    notes: notes.length,
    level: check.level,
    description: check.description,
    catalog: check.catalog,
    roundTrips: sent.n,
    seconds: (performance.now() - t0) / 1000,
  };
  return { result, violations, notes };
}

/** Per tenant: how many violations, and whether any fails the run. */
export function tenantVerdicts(tenants: readonly TenantWithJournal[], violations: readonly Violation[], failOn: FailOn): TenantVerdict[] {
  const byTenant = new Map<string, { n: number; failing: boolean }>();
  for (const v of violations) {
    if (v.tenant === null) continue;
    const seen = byTenant.get(v.tenant) ?? { n: 0, failing: false };
    seen.n++;
    seen.failing ||= fails(v.level, failOn);
    byTenant.set(v.tenant, seen);
  }
  return tenants.map((t) => ({ id: t.id, status: t.status, ok: !byTenant.get(t.id)?.failing, violations: byTenant.get(t.id)?.n ?? 0 }));
}
