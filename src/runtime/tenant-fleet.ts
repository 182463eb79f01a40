import type { Context } from '../context.js';
import { describeError } from '../errors.js';
import type { FailurePolicy, FleetOutcome } from './fleet.js';
import type { TenantRunResult } from './results.js';

/**
 * The work-queue options every per-tenant fleet command shares (create,
 * migrate, down): the failure policy, concurrency, and what a tenant's result
 * says about itself.
 */
export function tenantFleetOptions<J extends { id: string; server?: string }>(
  ctx: Context,
  options: FailurePolicy & { concurrency?: number },
) {
  return {
    concurrency: options.concurrency ?? ctx.config.concurrency,
    failFast: options.failFast,
    canary: options.canary,
    maxFailures: options.maxFailures,
    isFailure: (r: TenantRunResult) => r.status === 'failed',
    label: (j: J) => j.id,
    serverOf: (j: J) => j.server ?? ctx.server,
    status: (r: TenantRunResult) => r.status,
    onError: (j: J, err: unknown): TenantRunResult => ({ id: j.id, status: 'failed', applied: [], error: describeError(err) }),
  };
}

/** One result per job, in job order: a job the run never started is `skipped`, reason `stopped`. */
export function resultsWithStopped<J extends { id: string }>(
  jobs: readonly J[],
  outcome: FleetOutcome<TenantRunResult>,
): TenantRunResult[] {
  return jobs.map(
    (job, i) =>
      outcome.results[i] ?? {
        id: job.id,
        status: 'skipped',
        applied: [],
        reason: 'stopped',
        error: `not run: ${outcome.stoppedBecause ?? 'stopped'}`,
      },
  );
}
