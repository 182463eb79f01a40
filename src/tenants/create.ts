import { InputError, usage } from '../errors.js';
import { ensureControlSchema } from '../control/ensure.js';
import { readTenants } from '../control/tenants.js';
import { parseTenantState, tenantStateSql } from '../control/journal.js';
import { logOperationSql } from '../control/oplog.js';
import { inTransaction, isConnectionLoss } from '../db/session.js';
import type { PoolClient } from '../db/types.js';
import { blame, MigrationFailure, type Batch } from '../migrations/builder.js';
import { planUp } from '../migrations/plan.js';
import type { Context } from '../context.js';
import { runFleet, type FailurePolicy } from '../runtime/fleet.js';
import { validateIds } from '../runtime/lookup.js';
import { tenantMigrations } from '../runtime/migration-files.js';
import { resultsWithStopped, tenantFleetOptions } from '../runtime/tenant-fleet.js';
import { summarize, type FleetSummary, type TenantRunResult } from '../runtime/results.js';
import { migrateShared } from '../migrate/shared.js';
import { describeMigrationFailure } from '../migrate/failure-message.js';
import { buildTenant, checkAbsent, ensureSharedRoleOnce, provisioningMessage, provisionPrologue, registerSql, tenantExists, tenantSpecs, type TenantSpec } from './provision.js';
import { nameFailingMigration } from '../migrations/diagnose.js';
import { assertText } from '../runtime/ids.js';

export interface CreateTenantsOptions extends FailurePolicy {
  ids: string[];
  name?: string;
  /** The tenant key (ownership column value); defaults to the id. One tenant only. */
  key?: string;
  /** Tenant config values. */
  set?: Record<string, string>;
  concurrency?: number;
}

export interface CreateTenantsResult {
  tenants: TenantRunResult[];
  summary: FleetSummary;
  stoppedBecause?: string;
}

/** Checks create's options without a database: exit 2 for anything wrong. */
export function validateCreateOptions(options: CreateTenantsOptions): string[] {
  const ids = validateIds(options.ids) ?? [];
  if (ids.length === 0) throw usage('tenant create needs at least one tenant id');
  if (options.key !== undefined && ids.length > 1) throw usage("--key sets one tenant's key; create tenants with their own keys one at a time");
  if (options.key !== undefined && options.key.trim().length === 0) throw usage('--key must not be empty');
  if (options.key !== undefined) assertText('--key', options.key);
  if (options.name !== undefined) assertText('--name', options.name);
  for (const [k, v] of Object.entries(options.set ?? {})) {
    assertText('--set', k);
    assertText('--set', v);
  }
  return ids;
}

/**
 * Creates tenants: registry row, schema, role and every tenant migration in one
 * transaction per tenant, so each exists at the head or not at all. Many ids go
 * through the same work queue as migrate. The same command run again finishes
 * the job: an id that already exists as asked (at the head, same key and name)
 * is reported `exists` and left alone; one that exists otherwise is refused
 * before anything is made.
 */
export async function createTenants(ctx: Context, options: CreateTenantsOptions): Promise<CreateTenantsResult> {
  const ids = validateCreateOptions(options);
  const files = await tenantMigrations(ctx);
  await ensureControlSchema(ctx);
  const specs = await tenantSpecs(
    ctx,
    ids.map((id) => ({ id, key: options.key, name: options.name ?? null, config: options.set ?? {} })),
    files.list,
  );
  const registered = await checkAbsent(ctx.pool, ctx, specs);
  if (registered.size > 0) await assertAsAsked(ctx, specs.filter((s) => registered.has(s.id)), options);
  await migrateShared(ctx);
  await ensureSharedRoleOnce(ctx.pool, ctx);
  const clashes = new Set<string>();
  const outcome = await runFleet<TenantSpec, TenantRunResult>(
    ctx,
    specs,
    tenantFleetOptions<TenantSpec>(ctx, options),
    (client, spec) => createTenant(client, ctx, spec, options, clashes),
  );
  const list = resultsWithStopped(specs, outcome);
  // A racing create made an id otherwise than asked after the check above: when this run made
  // nothing, that is the same refusal as the check's (exit 2), whichever run got there first.
  const clash = list.find((t) => clashes.has(t.id));
  if (clash && !list.some((t) => t.status === 'created')) throw tenantExists(clash.id);
  return { tenants: list, summary: summarize(list), stoppedBecause: outcome.stoppedBecause };
}

/** Registered ids must be what this command would make: at the head, with the key and name asked for. */
async function assertAsAsked(ctx: Context, specs: TenantSpec[], options: CreateTenantsOptions): Promise<void> {
  const rows = await readTenants(ctx.pool, ctx, { ids: specs.map((s) => s.id) });
  for (const spec of specs) {
    const row = rows.find((r) => r.id === spec.id);
    if (!row || !matches(row, spec, options)) throw tenantExists(spec.id);
  }
}

function matches(row: { status: string; key: string; name: string | null; journal: { name: string; checksum: string }[] }, spec: TenantSpec, options: CreateTenantsOptions): boolean {
  if (row.status === 'archived') return false;
  if (row.key !== spec.key) return false;
  if (options.name !== undefined && row.name !== options.name) return false;
  return planUp(spec.migrations, row.journal).pending.length === 0;
}

/**
 * One tenant: BEGIN, its lock (waiting: a racing create of the same id finishes
 * first, then this one finds it), its state and the registry insert in one
 * message; then schema, role, migrations, journal and log with COMMIT.
 */
async function createTenant(client: PoolClient, ctx: Context, spec: TenantSpec, options: CreateTenantsOptions, clashes: Set<string>): Promise<TenantRunResult> {
  let built: { last: string[]; batch: Batch } | undefined;
  try {
    const outcome = await inTransaction(client, ctx.config, { lock: { ids: [spec.id], wait: true }, prelude: [tenantStateSql(ctx, spec.id), registerSql(ctx, spec)] }, async (tx) => {
      const existing = parseTenantState(tx.prelude[0]?.rows[0]);
      if (existing) {
        tx.rollbackOnly();
        const asAsked = matches(existing, spec, options);
        if (!asAsked) clashes.add(spec.id);
        return asAsked
          ? ({ id: spec.id, status: 'exists', applied: [] } satisfies TenantRunResult)
          : ({ id: spec.id, status: 'failed', applied: [], error: tenantExists(spec.id).message } satisfies TenantRunResult);
      }
      built = await buildTenant(client, ctx, spec, { defer: true });
      for (const sql of built.last) tx.last(sql);
      tx.last(logOperationSql(ctx, 'create', spec.id, { schema: spec.schema, role: spec.role, key: spec.key, migrations: spec.migrations.length }));
      return { id: spec.id, status: 'created', applied: spec.migrations.map((m) => m.name) } satisfies TenantRunResult;
    });
    if (outcome.locked) throw new InputError('internal_error', 'lock refused while waiting');
    return outcome.value;
  } catch (err) {
    if (isConnectionLoss(err)) throw err;
    let failure = err instanceof MigrationFailure ? err : built ? blame(built.batch, err) : new MigrationFailure(undefined, err);
    failure = await nameFailingMigration(client, ctx.config, { lock: { ids: [spec.id], wait: true } }, { migrations: spec.migrations, direction: 'up', prologue: provisionPrologue(ctx, spec), log: ctx.log }, failure);
    const error = provisioningMessage(failure, spec) ?? describeMigrationFailure(failure, spec.migrations);
    return { id: spec.id, status: 'failed', applied: [], error, ...(failure.migration ? { migration: failure.migration } : {}) };
  }
}
