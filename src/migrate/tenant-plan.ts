// What one tenant's migration step has to do, from its journal read under its lock, and the results
// for the cases where it does nothing.
import { planDown, planUp } from '../migrations/plan.js';
import type { LoadedMigration } from '../migrations/types.js';
import type { TenantStatus } from '../control/tenants.js';
import type { TenantRunResult } from '../runtime/results.js';

interface JobBase {
  id: string;
  /** The server it lives on (default: the home server). */
  server?: string;
  files: readonly LoadedMigration[];
  /** Statuses this job may run on (migrate: active; named tenants: active or suspended). */
  allowed: readonly TenantStatus[];
  /** Wait for a tenant another run holds instead of skipping it. */
  wait: boolean;
  /**
   * A pending migration calls pgm.noTransaction(): the step holds the tenant's
   * lock for the session and runs migration by migration. Found from the files
   * when not given.
   */
  online?: boolean;
  /** INVALID indexes of the tenant's non-transactional migrations, found before the step: rebuilt after its migrations ran. */
  repair?: readonly string[];
}

export type TenantMigrateJob =
  | (JobBase & { direction: 'up'; /** Last file index to apply (inclusive). */ toIndex: number })
  | (JobBase & { direction: 'down'; down: { count?: number; toName?: string } });

export function plan(
  job: TenantMigrateJob,
  journal: { name: string; checksum: string }[],
): { todo: LoadedMigration[] } | { error: string } {
  if (job.direction === 'up') {
    const p = planUp(job.files, journal, job.toIndex);
    if (p.outOfOrder) {
      return {
        error: `migration ${p.outOfOrder.pending} is not applied but the later ${p.outOfOrder.applied} is; apply it by hand or rename it to sort last`,
      };
    }
    return { todo: p.pending };
  }
  const p = planDown(job.files, journal, job.down);
  return p.error ? { error: p.error } : { todo: p.revert };
}

export function skippedInactive(id: string, status: string | undefined): TenantRunResult {
  return { id, status: 'skipped', applied: [], reason: 'not-active', error: status ? `tenant is ${status}` : 'tenant was removed' };
}

export function skippedLocked(id: string): TenantRunResult {
  return { id, status: 'skipped', applied: [], reason: 'locked', error: 'another tenantctl run holds this tenant' };
}

export function failed(id: string, error: string): TenantRunResult {
  return { id, status: 'failed', applied: [], error };
}

export function allowedStatus(job: TenantMigrateJob, status: string): boolean {
  return job.allowed.includes(status as TenantStatus);
}
