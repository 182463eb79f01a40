import { TenantctlError, describeError, toTenantctlError } from '../errors.js';
import { CONTROL_LOCK_KEYS } from '../db/locks.js';
import { withClient, withTransaction } from '../db/with.js';
import { runMigrationActions } from '../migrations/builder.js';
import { planUp } from '../migrations/plan.js';
import { databaseOid, sharedRoleName } from '../roles/names.js';
import { ensureSharedRole } from '../roles/grants.js';
import { ident } from '../util/quote.js';
import type { LoadedMigration } from '../migrations/types.js';
import type { Context } from '../context.js';
import { sharedMigrations } from '../runtime/migration-files.js';

export interface SharedMigrateResult {
  applied: string[];
  pending: string[];
}

/**
 * Applies pending shared migrations once, in one transaction, under the control
 * lock (a second run waits, then finds nothing to do). With roles on, the shared
 * role is (re)granted afterwards so tenant roles can read new shared tables.
 */
export async function migrateShared(ctx: Context, options: { dryRun?: boolean } = {}): Promise<SharedMigrateResult> {
  const files = await sharedMigrations(ctx);
  const s = ident(ctx.config.controlSchema);
  if (options.dryRun) {
    const journal = await ctx.pool.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM ${s}.shared_migrations`).catch(() => ({ rows: [] }));
    return { applied: [], pending: planUp(files.list, journal.rows).pending.map((m) => m.name) };
  }
  try {
    return await applyShared(ctx, files.list);
  } catch (err) {
    if (err instanceof TenantctlError) throw err;
    const mapped = toTenantctlError(err);
    if (mapped.exitCode === 3) throw mapped;
    throw new TenantctlError('shared_migration_failed', `shared migrations failed and were rolled back, no tenant was touched: ${describeError(err)}`, 1);
  }
}

async function applyShared(ctx: Context, files: LoadedMigration[]): Promise<SharedMigrateResult> {
  const s = ident(ctx.config.controlSchema);
  return withClient(ctx.pool, (client) =>
    withTransaction(client, async () => {
      await client.query(`SELECT pg_advisory_xact_lock(${CONTROL_LOCK_KEYS})`, [ctx.config.controlSchema]);
      const journal = await client.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM ${s}.shared_migrations`);
      const plan = planUp(files, journal.rows);
      if (plan.pending.length > 0) {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(ctx.config.sharedSchema)}`);
        await client.query(`SELECT set_config('search_path', quote_ident($1), true)`, [ctx.config.sharedSchema]);
        await runMigrationActions(client, plan.pending, 'up', ctx.log);
        await client.query(`INSERT INTO ${s}.shared_migrations (name, checksum) SELECT * FROM unnest($1::text[], $2::text[])`, [
          plan.pending.map((m) => m.name),
          plan.pending.map((m) => m.checksum),
        ]);
      }
      if (ctx.config.roles) {
        // Grants only when something changed: a GRANT rewrites pg_class rows that a concurrent
        // tenant create touches too (its foreign keys to shared tables), and would collide with it.
        const role = sharedRoleName(await databaseOid(client, ctx));
        const exists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount === 1;
        if (!exists || plan.pending.length > 0) {
          await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(ctx.config.sharedSchema)}`);
          await ensureSharedRole(client, ctx.config, role);
        }
      }
      return { applied: plan.pending.map((m) => m.name), pending: [] };
    }),
  );
}
