import { describeError, InputError, tenantArchived, usage } from '../errors.js';
import { ensureControlSchema } from '../control/ensure.js';
import { planUp } from '../migrations/plan.js';
import type { Context } from '../context.js';
import { runFleet, validatePolicy, type FailurePolicy } from '../runtime/fleet.js';
import { findFleetTenants, validateIds } from '../runtime/lookup.js';
import { eachServer, serverContext } from '../runtime/servers.js';
import { tenantMigrations } from '../runtime/migration-files.js';
import { resultsWithStopped, tenantFleetOptions } from '../runtime/tenant-fleet.js';
import { summarize, type FleetSummary, type TenantRunResult } from '../runtime/results.js';
import { migrateShared } from './shared.js';
import { isTransactional } from '../migrations/builder.js';
import { fleetInvalidIndexes, onlineIndexNames } from './invalid-indexes.js';
import { SQLSTATE } from '../sqlstate.js';
import { migrateTenant, type TenantMigrateJob } from './tenant-step.js';

export interface MigrateOptions extends FailurePolicy {
  /** Tenants to migrate; default all active ones. */
  tenants?: string[];
  /** Stop at this migration (inclusive) instead of the head. */
  to?: string;
  dryRun?: boolean;
  concurrency?: number;
  /** Wait for tenants another run holds instead of skipping them. */
  wait?: boolean;
  /**
   * How many more times to try a tenant whose statement hit lock_timeout, a
   * deadlock or a serialization failure (config lockRetries, default 3).
   */
  lockRetries?: number;
}

export interface MigrateResult {
  dryRun: boolean;
  shared: { applied: string[]; pending: string[] };
  /** Per tenant; with dryRun, `applied` lists what would run. */
  tenants: TenantRunResult[];
  summary: FleetSummary;
  stoppedBecause?: string;
  stats: { roundTrips: number; seconds: number };
}

/** What the server may well not refuse the next time: a lock timeout, a deadlock, a serialization failure. */
const RETRYABLE: ReadonlySet<string> = new Set([SQLSTATE.LOCK_NOT_AVAILABLE, SQLSTATE.DEADLOCK_DETECTED, SQLSTATE.SERIALIZATION_FAILURE]);

/** Checks migrate's options without a database: exit 2 for anything wrong. */
export function validateMigrateOptions(options: MigrateOptions): void {
  if (options.tenants !== undefined) {
    if (options.tenants.length === 0) throw usage('--tenant needs at least one tenant id; leave it out to migrate every active tenant');
    validateIds(options.tenants);
  }
  if (options.to !== undefined && options.to.trim() === '') throw usage('--to needs a migration name');
  const r = options.lockRetries;
  if (r !== undefined && (!Number.isInteger(r) || r < 0 || r > 100))
    throw usage(`--lock-retries must be a whole number from 0 to 100, got ${r}`);
  validatePolicy(options);
}

/**
 * Brings tenants to the head (or `to`). Shared migrations first, once. The plan
 * comes from one query over the registry and journal, so tenants with nothing
 * pending cost no round trip; the rest go through the work queue, one
 * transaction and one lock per tenant (a tenant with a non-transactional
 * migration pending: one lock for the step, one transaction per run of
 * transactional migrations). A tenant refused for a lock timeout, deadlock or
 * serialization failure is tried again, up to lockRetries more times.
 */
export async function migrate(ctx: Context, options: MigrateOptions = {}): Promise<MigrateResult> {
  validateMigrateOptions(options);
  const started = performance.now();
  const trips = ctx.stats.roundTrips;
  const files = await tenantMigrations(ctx);
  const toIndex = options.to === undefined ? files.list.length - 1 : files.list.findIndex((m) => m.name === options.to);
  if (options.to !== undefined && toIndex < 0) {
    throw new InputError(
      'unknown_migration',
      `no tenant migration named "${options.to}" in ${files.dir}; see \`tenantctl migrate status\``,
    );
  }
  if (files.list.length === 0) ctx.log.info(`no tenant migrations in ${files.dir} yet; nothing to apply to tenants`);
  const named = options.tenants !== undefined;
  // Named tenants are checked before anything is created: bad input changes nothing.
  const fleet = await findFleetTenants(ctx, named ? options.tenants : undefined, named ? undefined : 'active');
  const tenants = fleet.tenants;
  if (!options.dryRun) await ensureControlSchema(ctx);
  const archived = tenants.filter((t) => t.status === 'archived');
  if (named && archived.length > 0) {
    throw tenantArchived(archived[0]!.id);
  }
  const shared = await migrateShared(ctx, { dryRun: options.dryRun });
  const results = new Map<string, TenantRunResult>();
  for (const u of fleet.unreachable) results.set(u.id, { id: u.id, status: 'failed', applied: [], reason: 'unreachable', error: u.error });
  // Every other server holding tenants gets the shared migrations (and a current control schema) first;
  // a server where that fails fails its tenants, not the run.
  const others = [...new Set(tenants.map((t) => t.server))].filter((s) => s !== ctx.server);
  const refused = new Map<string, string>();
  for (const o of await eachServer(
    ctx,
    async (sctx) => {
      if (!options.dryRun) await ensureControlSchema(sctx);
      return migrateShared(sctx, { dryRun: options.dryRun });
    },
    others,
  )) {
    if (o.error !== undefined) refused.set(o.server, `server "${o.server}": ${describeError(o.error)}`);
  }
  for (const t of tenants) {
    const why = refused.get(t.server);
    if (why) results.set(t.id, { id: t.id, status: 'failed', applied: [], reason: 'unreachable', error: why });
  }

  const jobs: TenantMigrateJob[] = [];
  // INVALID indexes that non-transactional migrations made: one query per server, none without such migrations.
  const indexNames = await onlineIndexNames(files.list);
  const reachable = tenants.filter((t) => !refused.has(t.server));
  const invalid = await fleetInvalidIndexes(ctx, reachable, indexNames);
  /** A tenant's job: its pending migrations (in one transaction unless one of them is non-transactional) and its INVALID indexes. */
  const jobFor = (t: (typeof reachable)[number], online: boolean, repair: readonly string[]): TenantMigrateJob => ({
    id: t.id,
    server: t.server,
    direction: 'up',
    files: files.list,
    toIndex,
    allowed: named ? ['active', 'suspended'] : ['active'],
    wait: options.wait ?? false,
    online,
    repair,
  });
  for (const t of reachable) {
    const plan = planUp(files.list, t.journal, toIndex);
    const repair = invalid.get(t.schema) ?? [];
    if (plan.pending.length === 0 && repair.length > 0 && !options.dryRun) jobs.push(jobFor(t, true, repair));
    else if (plan.pending.length === 0) results.set(t.id, { id: t.id, status: 'up-to-date', applied: [] });
    else if (options.dryRun) results.set(t.id, { id: t.id, status: 'migrated', applied: plan.pending.map((m) => m.name) });
    else {
      const online = (await Promise.all(plan.pending.map((m) => isTransactional(m, 'up')))).includes(false);
      jobs.push(jobFor(t, online || repair.length > 0, repair));
    }
  }
  let stoppedBecause: string | undefined;
  if (jobs.length > 0) {
    const outcome = await runFleet<(typeof jobs)[number], TenantRunResult>(
      ctx,
      jobs,
      {
        ...tenantFleetOptions<TenantMigrateJob>(ctx, options),
        retry: {
          times: options.lockRetries ?? ctx.config.lockRetries,
          retryable: (r) => r.status === 'failed' && r.sqlstate !== undefined && RETRYABLE.has(r.sqlstate),
          attempts: (r, n) => ({ ...r, attempts: n }),
        },
      },
      (client, job) => migrateTenant(client, serverContext(ctx, job.server ?? ctx.server), job),
    );
    stoppedBecause = outcome.stoppedBecause;
    resultsWithStopped(jobs, outcome).forEach((r) => results.set(r.id, r));
  }
  const list = [...tenants.map((t) => t.id), ...fleet.unreachable.map((u) => u.id)].map((id) => results.get(id)!);
  return {
    dryRun: options.dryRun ?? false,
    shared,
    tenants: list,
    summary: summarize(list),
    stoppedBecause,
    stats: { roundTrips: ctx.stats.roundTrips - trips, seconds: (performance.now() - started) / 1000 },
  };
}
