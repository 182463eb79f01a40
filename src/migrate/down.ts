import { InputError, tenantArchived } from '../errors.js';
import { ensureControlSchema } from '../control/ensure.js';
import type { Context } from '../context.js';
import { runFleet, validatePolicy } from '../runtime/fleet.js';
import { findFleetTenants, validateIds } from '../runtime/lookup.js';
import { serverContext } from '../runtime/servers.js';
import { tenantMigrations } from '../runtime/migration-files.js';
import { resultsWithStopped, tenantFleetOptions } from '../runtime/tenant-fleet.js';
import { summarize, type FleetSummary, type TenantRunResult } from '../runtime/results.js';
import { migrateTenant, type TenantMigrateJob } from './tenant-step.js';

export interface MigrateDownOptions {
  tenants: string[];
  /** How many migrations to revert (default 1). */
  count?: number;
  /** Revert everything applied after this migration; it stays applied. */
  to?: string;
  concurrency?: number;
  wait?: boolean;
}

export interface MigrateDownResult {
  tenants: TenantRunResult[];
  summary: FleetSummary;
}

/** Rolls named tenants back, each in its own transaction (down actions, or node-pg-migrate's inferred reverse). */
/** Checks down's options without a database: exit 2 for anything wrong. */
export function validateDownOptions(options: MigrateDownOptions): void {
  if (options.tenants.length === 0) throw new InputError('usage', 'migrate down needs --tenant ID (one or more)');
  validateIds(options.tenants);
  if (options.count !== undefined && options.to !== undefined) throw new InputError('usage', 'give --count or --to, not both');
  if (options.count !== undefined && (!Number.isInteger(options.count) || options.count < 1)) {
    throw new InputError('usage', `--count must be a whole number of at least 1, got ${options.count}`);
  }
  validatePolicy({ concurrency: options.concurrency });
}

export async function migrateDown(ctx: Context, options: MigrateDownOptions): Promise<MigrateDownResult> {
  validateDownOptions(options);
  const files = await tenantMigrations(ctx);
  if (options.to !== undefined && !files.byName.has(options.to)) {
    throw new InputError('unknown_migration', `no tenant migration named "${options.to}" in ${files.dir}`);
  }
  const fleet = await findFleetTenants(ctx, options.tenants);
  const tenants = fleet.tenants;
  await ensureControlSchema(ctx);
  const archived = tenants.find((t) => t.status === 'archived');
  if (archived) throw tenantArchived(archived.id);
  const jobs = tenants.map((t): TenantMigrateJob => ({
    id: t.id,
    server: t.server,
    direction: 'down',
    files: files.list,
    down: { count: options.count, toName: options.to },
    allowed: ['active', 'suspended'],
    wait: options.wait ?? false,
  }));
  const outcome = await runFleet<(typeof jobs)[number], TenantRunResult>(
    ctx,
    jobs,
    tenantFleetOptions<TenantMigrateJob>(ctx, { concurrency: options.concurrency }),
    (client, job) => migrateTenant(client, serverContext(ctx, job.server ?? ctx.server), job),
  );
  // A tenant on a server that cannot be reached fails (exit 3 for it), after the others ran.
  const list = [
    ...resultsWithStopped(jobs, outcome),
    ...fleet.unreachable.map((u): TenantRunResult => ({ id: u.id, status: 'failed', applied: [], reason: 'unreachable', error: u.error })),
  ];
  return { tenants: list, summary: summarize(list) };
}
