/** One tenant's outcome in a fleet command. Expected failures are results, not exceptions. */
export type TenantRunStatus = 'migrated' | 'reverted' | 'up-to-date' | 'failed' | 'skipped' | 'created' | 'exists';

export interface TenantRunResult {
  id: string;
  status: TenantRunStatus;
  /** Migrations applied (up) or reverted (down) for this tenant, in the order they ran. */
  applied: string[];
  error?: string;
  /** The migration file that failed, when it can be told. */
  migration?: string;
  /** Why a tenant was skipped: another run holds its lock, or the run stopped before it. */
  /** Why: locked (another run holds it), stopped (the failure policy), not-active, unreachable (its server could not be reached). */
  reason?: 'locked' | 'stopped' | 'not-active' | 'unreachable';
  /** How many times the tenant was tried, when it was retried after a lock timeout, deadlock or serialization failure. */
  attempts?: number;
  /** The SQLSTATE of a failure the server reported. */
  sqlstate?: string;
  /** Leftovers of an interrupted non-transactional migration that this run cleared (INVALID indexes dropped and built again, a detach finalized). */
  repaired?: string[];
}

export interface FleetSummary {
  migrated: number;
  upToDate: number;
  failed: number;
  skipped: number;
}

export function summarize(results: readonly TenantRunResult[]): FleetSummary {
  const summary: FleetSummary = { migrated: 0, upToDate: 0, failed: 0, skipped: 0 };
  for (const r of results) {
    if (r.status === 'migrated' || r.status === 'reverted' || r.status === 'created') summary.migrated++;
    else if (r.status === 'up-to-date' || r.status === 'exists') summary.upToDate++;
    else if (r.status === 'failed') summary.failed++;
    else summary.skipped++;
  }
  return summary;
}
