// Runs one check (counting its statements) and turns findings into violations and per-tenant verdicts.
import {
  fails,
  type CheckDefinition,
  type CheckResult,
  type FailOn,
  type Finding,
  type Note,
  type TenantVerdict,
  type Violation,
  type VerifyScope,
} from './types.js';
import { counted } from './counted.js';
import { withCatalogSession } from './catalog-session.js';

export interface CheckOutcome {
  result: CheckResult;
  violations: Violation[];
  notes: Note[];
}

/** A check's findings as violations (level and remediation filled in) and notes, each with its server (default `server`). */
export function recordFindings(
  check: CheckDefinition,
  findings: readonly Finding[],
  server: string,
): { violations: Violation[]; notes: Note[] } {
  const notes = findings
    .filter((f) => f.note)
    .map((f): Note => ({ check: check.id, server: f.server ?? server, tenant: f.tenant, object: f.object, detail: f.detail }));
  const violations = findings
    .filter((f) => !f.note)
    .map((f): Violation => ({
      check: check.id,
      rule: f.rule ?? check.id,
      server: f.server ?? server,
      tenant: f.tenant,
      object: f.object,
      detail: f.detail,
      level: f.level ?? check.level,
      remediation: f.remediation ?? check.remediation,
    }));
  return { violations, notes };
}

/** Runs one check on one server (scope.ctx) and turns its findings into violations and notes. */
export async function runCheck(
  check: CheckDefinition,
  shared: Omit<VerifyScope, 'pool' | 'session'>,
  failOn: FailOn,
): Promise<CheckOutcome> {
  const t0 = performance.now();
  const sent = { n: 0 };
  const scope: VerifyScope = {
    ...shared,
    db: counted(shared.db, sent),
    pool: counted(shared.ctx.pool, sent),
    session: (fn) => withCatalogSession(shared.ctx, (client) => fn(counted(client, sent))),
  };
  const findings = await check.run(scope);
  const { violations, notes } = recordFindings(check, findings, shared.ctx.server);
  return { result: checkResult(check, violations, notes, failOn, sent.n, (performance.now() - t0) / 1000), violations, notes };
}

export function checkResult(
  check: CheckDefinition,
  violations: readonly Violation[],
  notes: readonly Note[],
  failOn: FailOn,
  roundTrips: number,
  seconds: number,
): CheckResult {
  return {
    name: check.id,
    ok: !violations.some((v) => fails(v.level, failOn)),
    violations: violations.length,
    notes: notes.length,
    level: check.level,
    description: check.description,
    catalog: check.catalog,
    roundTrips,
    seconds,
  };
}

/** Per tenant: how many violations, and whether any fails the run. */
export function tenantVerdicts(
  tenants: readonly { id: string; status: string; server: string; error?: string }[],
  violations: readonly Violation[],
  failOn: FailOn,
): TenantVerdict[] {
  const byTenant = new Map<string, { n: number; failing: boolean }>();
  for (const v of violations) {
    if (v.tenant === null) continue;
    const seen = byTenant.get(v.tenant) ?? { n: 0, failing: false };
    seen.n++;
    seen.failing ||= fails(v.level, failOn);
    byTenant.set(v.tenant, seen);
  }
  return tenants.map((t) => ({
    id: t.id,
    server: t.server,
    status: t.status,
    ok: t.error === undefined && !byTenant.get(t.id)?.failing,
    violations: byTenant.get(t.id)?.n ?? 0,
    ...(t.error !== undefined ? { error: t.error } : {}),
  }));
}
