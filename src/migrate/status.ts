import { controlReady } from '../control/ensure.js';
import { readSharedJournal } from '../control/journal.js';
import { usage } from '../errors.js';
import { planUp } from '../migrations/plan.js';
import { fleetInvalidIndexes, onlineIndexNames } from './invalid-indexes.js';
import type { Context } from '../context.js';
import { findFleetTenants, validateIds } from '../runtime/lookup.js';
import { sharedMigrations, tenantMigrations } from '../runtime/migration-files.js';

export interface TenantMigrationStatus {
  id: string;
  /** The server it lives on: "default" (the home server) or a name from the config's `servers`. */
  server: string;
  /** active, suspended, archived; or unreachable (its server could not be read: see error). */
  status: string;
  error?: string;
  /** The migrations this tenant has applied, in the order they ran. */
  applied: string[];
  /** Files not yet applied, in order. */
  pending: string[];
  /** Applied, but the file is gone from disk. */
  missing: string[];
  /** Applied, but the file changed since. */
  changed: string[];
  /** INVALID indexes its non-transactional migrations made (a CONCURRENTLY build cut off or failed): `migrate` builds them again. */
  invalidIndexes: string[];
}

export interface MigrateStatusResult {
  shared: { applied: string[]; pending: string[]; missing: string[]; changed: string[] };
  tenants: TenantMigrationStatus[];
  /** Tenants whose journal disagrees with the files (missing or changed). */
  disagreeing: string[];
  /** Pending migrations, plus tenants with INVALID indexes to rebuild. */
  pendingTotal: number;
}

/** Checks status's options without a database. */
export function validateStatusOptions(options: { tenants?: string[] }): void {
  if (options.tenants !== undefined && options.tenants.length === 0)
    throw usage('--tenant needs at least one tenant id; leave it out for every tenant');
  validateIds(options.tenants);
}

/**
 * Applied and pending migrations per tenant, from two queries whatever the fleet
 * size (control version, registry with journals) plus one for shared migrations,
 * and one for INVALID indexes when a migration calls pgm.noTransaction().
 */
export async function migrateStatus(ctx: Context, options: { tenants?: string[] } = {}): Promise<MigrateStatusResult> {
  validateStatusOptions(options);
  const files = await tenantMigrations(ctx);
  const sharedFiles = await sharedMigrations(ctx);
  const named = options.tenants !== undefined;
  const ready = await controlReady(ctx);
  const fleet = ready || named ? await findFleetTenants(ctx, options.tenants) : { tenants: [], unreachable: [] };
  const tenants = fleet.tenants;
  const sharedJournal = ready ? await readSharedJournal(ctx.pool, ctx) : [];
  const sharedPlan = planUp(sharedFiles.list, sharedJournal);
  const invalid = await fleetInvalidIndexes(ctx, tenants, await onlineIndexNames(files.list));
  const list: TenantMigrationStatus[] = tenants.map((t) => {
    const plan = planUp(files.list, t.journal);
    return {
      id: t.id,
      server: t.server,
      status: t.status,
      applied: t.journal.map((j) => j.name),
      pending: plan.pending.map((m) => m.name),
      missing: plan.missing,
      changed: plan.changed,
      invalidIndexes: invalid.get(t.schema) ?? [],
    };
  });
  // A tenant on a server that cannot be read: status "unreachable", with why (the CLI exits 3).
  for (const u of fleet.unreachable)
    list.push({
      id: u.id,
      server: u.server,
      status: 'unreachable',
      applied: [],
      pending: [],
      missing: [],
      changed: [],
      invalidIndexes: [],
      error: u.error,
    });
  const active = list.filter((t) => t.status !== 'archived');
  return {
    shared: {
      applied: sharedJournal.map((j) => j.name),
      pending: sharedPlan.pending.map((m) => m.name),
      missing: sharedPlan.missing,
      changed: sharedPlan.changed,
    },
    tenants: list,
    disagreeing: list.filter((t) => t.missing.length > 0 || t.changed.length > 0).map((t) => t.id),
    pendingTotal: active.reduce((n, t) => n + t.pending.length + (t.invalidIndexes.length > 0 ? 1 : 0), 0) + sharedPlan.pending.length,
  };
}
