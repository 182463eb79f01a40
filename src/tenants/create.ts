import { describeError, InputError, RunFailure, usage } from '../errors.js';
import { ensureControlSchema } from '../control/ensure.js';
import { readTenants } from '../control/tenants.js';
import { parseTenantState, tenantStateSql } from '../control/journal.js';
import { logOperationSql } from '../control/oplog.js';
import { inTransaction, isConnectionLoss } from '../db/session.js';
import type { PoolClient } from '../db/types.js';
import { blame, MigrationFailure, type Batch } from '../migrations/builder.js';
import { planUp } from '../migrations/plan.js';
import type { Context } from '../context.js';
import { runFleet } from '../runtime/fleet.js';
import { validateIds } from '../runtime/lookup.js';
import { sharedMigrations, tenantMigrations } from '../runtime/migration-files.js';
import { resultsWithStopped, tenantFleetOptions } from '../runtime/tenant-fleet.js';
import { summarize, type TenantRunResult } from '../runtime/results.js';
import { migrateShared } from '../migrate/shared.js';
import { describeMigrationFailure } from '../migrate/failure-message.js';
import {
  buildTenant,
  ensureSharedRoleOnce,
  provisioningMessage,
  provisionPrologue,
  refuseClashes,
  registerSql,
  tenantExists,
  tenantSpecs,
  type TenantSpec,
} from './provision.js';
import { nameFailingMigration } from '../migrations/diagnose.js';
import { assertText } from '../runtime/ids.js';
import type { Template } from '../control/templates.js';
import { adoptSpareSql, claimSpareSql } from '../control/pool.js';
import { instantBuildSql } from './provision.js';
import { ensureTemplate } from './instant/capture.js';
import { headOf } from './instant/head.js';
import { createElsewhere, defaultServer } from './create-elsewhere.js';
import type { CreateTenantsOptions, CreateMethod, CreatedTenant, CreateTenantsResult } from './create-types.js';
import { assertServerName, unknownServer } from '../db/servers.js';
import { readCreateChecks, type CreateChecks } from '../control/create-checks.js';
import { CONTROL_SCHEMA_VERSION } from '../control/ddl.js';
import { databaseOid, sharedRoleName } from '../roles/names.js';
import { citusOf } from '../citus/detect.js';

export type { CreateTenantsOptions, CreateMethod, CreatedTenant, CreateTenantsResult } from './create-types.js';

/** What the run makes tenants from: the template (if captured) and the pool (if its spares can be renamed). */
export interface CreatePlan {
  template?: Template;
  head: string;
  pool: boolean;
}

/** Checks create's options without a database: exit 2 for anything wrong. */
export function validateCreateOptions(options: CreateTenantsOptions): string[] {
  const ids = validateIds(options.ids) ?? [];
  if (ids.length === 0) throw usage('tenant create needs at least one tenant id');
  if (options.key !== undefined && ids.length > 1)
    throw usage("--key sets one tenant's key; create tenants with their own keys one at a time");
  if (options.key !== undefined && options.key.trim().length === 0) throw usage('--key must not be empty');
  if (options.key !== undefined) assertText('--key', options.key);
  if (options.name !== undefined) assertText('--name', options.name);
  if (options.server !== undefined) assertServerName(options.server);
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
  if (options.server !== undefined && !ctx.servers.has(options.server)) throw unknownServer(options.server, ctx.servers.names());
  const server = options.server ?? (ctx.home ? ctx.server : await defaultServer(ctx));
  if (server !== ctx.server) return createElsewhere(ctx, ids, server, options, createTenants);
  const files = await tenantMigrations(ctx);
  const specs = await tenantSpecs(
    ctx,
    ids.map((id) => ({ id, key: options.key, name: options.name ?? null, config: options.set ?? {} })),
    files.list,
  );
  const checks = await createChecks(ctx, specs);
  const registered = refuseClashes(specs, checks.clashes);
  if (registered.size > 0)
    await assertAsAsked(
      ctx,
      specs.filter((s) => registered.has(s.id)),
      options,
    );
  await sharedFirst(ctx, checks);
  // On Citus every tenant is built by its migrations (a distributed schema), so there is no template to capture.
  const capture = options.replay || specs.some((s) => s.distributed) ? undefined : await ensureTemplate(ctx, files.list);
  const plan: CreatePlan = { template: capture?.template, head: headOf(files.list), pool: capture?.template?.renameSafe === true };
  const result = await createSpecs(ctx, specs, options, plan);
  return capture?.reason ? { ...result, replayBecause: capture.reason } : result;
}

/**
 * Everything create checks before it makes anything, in one round trip
 * (readCreateChecks); the control schema is made or upgraded first when they
 * find it missing or older, and read again.
 */
async function createChecks(ctx: Context, specs: readonly TenantSpec[]): Promise<CreateChecks> {
  const sharedRole = ctx.config.roles ? sharedRoleName(await databaseOid(ctx.pool, ctx)) : null;
  const first = await readCreateChecks(ctx.pool, ctx, specs, sharedRole);
  if (first?.version === CONTROL_SCHEMA_VERSION) return first;
  await ensureControlSchema(ctx);
  const again = await readCreateChecks(ctx.pool, ctx, specs, sharedRole);
  if (!again) throw new RunFailure('internal_error', `control schema "${ctx.config.controlSchema}" is missing right after it was made`);
  return again;
}

/**
 * Pending shared migrations are applied before any tenant is made (under the
 * control lock, which migrateShared takes and re-reads under); so is a missing
 * shared role made, and, on Citus, the shared tables made reference tables.
 * With none of these, nothing more is sent.
 */
async function sharedFirst(ctx: Context, checks: CreateChecks): Promise<void> {
  const shared = await sharedMigrations(ctx);
  const pending = planUp(shared.list, checks.sharedJournal).pending.length > 0;
  if (!pending && checks.sharedRole && (await citusOf(ctx)) === null) return;
  await migrateShared(ctx);
  await ensureSharedRoleOnce(ctx.pool, ctx);
}

/** Runs the creation of these tenants through the work queue (create, and the pool's fill). */
export async function createSpecs(
  ctx: Context,
  specs: TenantSpec[],
  options: Omit<CreateTenantsOptions, 'ids'>,
  plan: CreatePlan,
): Promise<CreateTenantsResult> {
  const clashes = new Set<string>();
  const outcome = await runFleet<TenantSpec, CreatedTenant>(
    ctx,
    specs,
    tenantFleetOptions<TenantSpec>(ctx, options),
    async (client, spec) => {
      if (!plan.template && !plan.pool) return createTenant(client, ctx, spec, options, plan, clashes);
      try {
        return await createTenant(client, ctx, spec, options, plan, clashes);
      } catch (err) {
        if (isConnectionLoss(err)) throw err;
        // The instant path failed where a replay may not: replay, which also names a failing migration.
        ctx.log.warn(`${spec.id}: instant creation failed (${describeError(err)}); replaying the migrations instead`);
        return createTenant(client, ctx, spec, options, { head: plan.head, pool: false }, clashes);
      }
    },
  );
  const list: CreatedTenant[] = resultsWithStopped(specs, outcome);
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

function matches(
  row: { status: string; key: string; name: string | null; journal: { name: string; checksum: string }[] },
  spec: TenantSpec,
  options: Pick<CreateTenantsOptions, 'name'>,
): boolean {
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
async function createTenant(
  client: PoolClient,
  ctx: Context,
  spec: TenantSpec,
  options: Omit<CreateTenantsOptions, 'ids'>,
  plan: CreatePlan,
  clashes: Set<string>,
): Promise<CreatedTenant> {
  let built: { last: string[]; batch: Batch } | undefined;
  const instant = Boolean(plan.template) || plan.pool;
  const claim = plan.pool && !spec.pooled;
  const prelude = [tenantStateSql(ctx, spec.id), registerSql(ctx, spec), ...(claim ? [claimSpareSql(ctx, plan.head)] : [])];
  try {
    const outcome = await inTransaction(
      client,
      ctx.config,
      { lock: { ids: [spec.id], wait: true }, prelude },
      async (tx): Promise<CreatedTenant> => {
        const existing = parseTenantState(tx.prelude[0]?.rows[0]);
        if (existing) {
          tx.rollbackOnly();
          const asAsked = matches(existing, spec, options);
          if (!asAsked) clashes.add(spec.id);
          return asAsked
            ? ({ id: spec.id, status: 'exists', applied: [] } satisfies TenantRunResult)
            : ({ id: spec.id, status: 'failed', applied: [], error: tenantExists(spec.id).message } satisfies TenantRunResult);
        }
        const detail = {
          schema: spec.schema,
          role: spec.role,
          key: spec.key,
          migrations: spec.migrations.length,
          ...(spec.pooled ? { pooled: true } : {}),
        };
        const created = (method: CreateMethod): CreatedTenant => ({
          id: spec.id,
          status: 'created',
          applied: spec.migrations.map((m) => m.name),
          method,
        });
        const spare = tx.prelude[2]?.rows[0] as
          { tc_pool_id: string; tc_pool_schema: string; tc_pool_role: string | null; tc_pool_locked: boolean } | undefined;
        if (spare?.tc_pool_locked) {
          tx.last(adoptSpareSql(ctx, { id: spare.tc_pool_id, schema: spare.tc_pool_schema, role: spare.tc_pool_role }, spec));
          tx.last(logOperationSql(ctx, 'create', spec.id, { ...detail, fromPool: spare.tc_pool_id }));
          return created('pool');
        }
        const script = plan.template ? instantBuildSql(ctx, spec, plan.template) : undefined;
        if (script) {
          for (const sql of script) tx.last(sql);
          tx.last(logOperationSql(ctx, 'create', spec.id, { ...detail, from: 'template' }));
          return created('template');
        }
        built = await buildTenant(client, ctx, spec, { defer: true });
        for (const sql of built.last) tx.last(sql);
        tx.last(logOperationSql(ctx, 'create', spec.id, detail));
        return created('replay');
      },
    );
    if (outcome.locked) throw new InputError('internal_error', 'lock refused while waiting');
    return outcome.value;
  } catch (err) {
    if (isConnectionLoss(err) || (instant && !built)) throw err;
    let failure = err instanceof MigrationFailure ? err : built ? blame(built.batch, err) : new MigrationFailure(undefined, err);
    failure = await nameFailingMigration(
      client,
      ctx.config,
      { lock: { ids: [spec.id], wait: true } },
      { migrations: spec.migrations, direction: 'up', prologue: provisionPrologue(ctx, spec), log: ctx.log },
      failure,
    );
    const error = provisioningMessage(failure, spec) ?? describeMigrationFailure(failure, spec.migrations);
    return { id: spec.id, status: 'failed', applied: [], error, ...(failure.migration ? { migration: failure.migration } : {}) };
  }
}
