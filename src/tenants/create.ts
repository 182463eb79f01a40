import { InputError, describeError } from '../errors.js';
import { ensureControlSchema } from '../control/ensure.js';
import { logOperation } from '../control/oplog.js';
import { isConnectionLoss } from '../db/with.js';
import type { PoolClient } from '../db/types.js';
import { runMigrationActions } from '../migrations/builder.js';
import { beginTenantTransaction, commitTenantTransaction, rollbackQuietly, setTenantSearchPath } from '../migrations/tenant-tx.js';
import type { LoadedMigration } from '../migrations/types.js';
import { createTenantRole, revokePublicSql } from '../roles/grants.js';
import { databaseOid, sharedRoleName, tenantRoleName } from '../roles/names.js';
import { ident } from '../util/quote.js';
import type { Context } from '../context.js';
import { runFleet, type FailurePolicy } from '../runtime/fleet.js';
import { assertSchemaNameAllowed } from '../runtime/ids.js';
import { validateIds } from '../runtime/lookup.js';
import { tenantMigrations } from '../runtime/migration-files.js';
import { summarize, type FleetSummary, type TenantRunResult } from '../runtime/results.js';
import { migrateShared } from '../migrate/shared.js';
import { recordApplied } from '../control/journal.js';

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

interface CreateJob {
  id: string;
  schema: string;
  role: string | null;
  sharedRole: string | null;
  key: string;
  name: string | null;
  config: Record<string, string>;
  files: readonly LoadedMigration[];
}

/**
 * Creates tenants: registry row, schema, role and every tenant migration in one
 * transaction per tenant, so each exists at the head or not at all. Many ids go
 * through the same work queue as migrate.
 */
export async function createTenants(ctx: Context, options: CreateTenantsOptions): Promise<CreateTenantsResult> {
  const ids = validateIds(options.ids) ?? [];
  if (ids.length === 0) throw new InputError('usage', 'tenant create needs at least one tenant id');
  if (options.key !== undefined && ids.length > 1) throw new InputError('usage', '--key sets one tenant\'s key; create tenants with their own keys one at a time');
  if (options.key !== undefined && options.key.length === 0) throw new InputError('usage', '--key must not be empty');
  const schemaOf = (id: string) => `${ctx.config.schemaPrefix}${id}`;
  ids.forEach((id) => assertSchemaNameAllowed(id, schemaOf(id), ctx.config));
  const files = await tenantMigrations(ctx);

  await ensureControlSchema(ctx);
  const clash = await ctx.pool.query<{ id: string; registered: boolean }>(
    `SELECT i.id, EXISTS (SELECT 1 FROM ${ident(ctx.config.controlSchema)}.tenants t WHERE t.id = i.id) AS registered
     FROM unnest($1::text[], $2::text[]) AS i(id, schema)
     WHERE EXISTS (SELECT 1 FROM ${ident(ctx.config.controlSchema)}.tenants t WHERE t.id = i.id)
        OR EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = i.schema)`,
    [ids, ids.map(schemaOf)],
  );
  const first = clash.rows[0];
  if (first) {
    throw first.registered
      ? new InputError('tenant_exists', `tenant "${first.id}" already exists; pick another id or see \`tenantctl tenant show ${first.id}\``)
      : new InputError('schema_exists', `schema "${schemaOf(first.id)}" already exists but is not a tenant; drop it or pick another id`);
  }
  await migrateShared(ctx);
  const oid = ctx.config.roles ? await databaseOid(ctx.pool, ctx) : 0;
  const jobs: CreateJob[] = ids.map((id) => ({
    id,
    schema: schemaOf(id),
    role: ctx.config.roles ? tenantRoleName(oid, id) : null,
    sharedRole: ctx.config.roles ? sharedRoleName(oid) : null,
    key: options.key ?? id,
    name: options.name ?? null,
    config: options.set ?? {},
    files: files.list,
  }));
  const outcome = await runFleet<(typeof jobs)[number], TenantRunResult>(
    ctx,
    jobs,
    {
      concurrency: options.concurrency ?? ctx.config.concurrency,
      failFast: options.failFast,
      canary: options.canary,
      maxFailures: options.maxFailures,
      isFailure: (r) => r.status === 'failed',
      label: (j) => j.id,
      status: (r) => r.status,
      onError: (j, err) => ({ id: j.id, status: 'failed', applied: [], error: describeError(err) }),
    },
    (client, job) => createTenant(client, ctx, job),
  );
  const list = jobs.map(
    (job, i) => outcome.results[i] ?? { id: job.id, status: 'skipped' as const, applied: [], reason: 'stopped' as const, error: `not run: ${outcome.stoppedBecause}` },
  );
  return { tenants: list, summary: summarize(list), stoppedBecause: outcome.stoppedBecause };
}

async function createTenant(client: PoolClient, ctx: Context, job: CreateJob): Promise<TenantRunResult> {
  const s = ident(ctx.config.controlSchema);
  try {
    if (!(await beginTenantTransaction(client, ctx, job.id))) {
      return { id: job.id, status: 'skipped', applied: [], reason: 'locked', error: 'another tenantctl run is creating or changing this tenant' };
    }
    const inserted = await client.query(
      `INSERT INTO ${s}.tenants (id, schema_name, role_name, key, name, config) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [job.id, job.schema, job.role, job.key, job.name, JSON.stringify(job.config)],
    );
    if (inserted.rowCount === 0) {
      await rollbackQuietly(client);
      return { id: job.id, status: 'failed', applied: [], error: 'tenant already exists' };
    }
    await client.query(`CREATE SCHEMA ${ident(job.schema)}`);
    if (job.role && job.sharedRole) await createTenantRole(client, job.schema, job.role, job.sharedRole);
    await setTenantSearchPath(client, ctx, job.schema);
    await runMigrationActions(client, job.files, 'up', ctx.log, job.role ? revokePublicSql(job.schema) : '');
    const names = job.files.map((m) => m.name);
    await recordApplied(client, ctx, job.id, job.files);
    await logOperation(client, ctx, 'create', job.id, { schema: job.schema, role: job.role, key: job.key, migrations: names.length });
    await commitTenantTransaction(client);
    return { id: job.id, status: 'created', applied: names };
  } catch (err) {
    if (isConnectionLoss(err)) throw err;
    await rollbackQuietly(client);
    const code = (err as { code?: string }).code;
    const error =
      code === '42710' && job.role
        ? `role "${job.role}" already exists (left behind by a dropped database?); drop it with DROP ROLE, then retry`
        : describeError(err);
    return { id: job.id, status: 'failed', applied: [], error };
  }
}
