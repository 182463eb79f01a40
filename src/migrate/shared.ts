import { RunFailure, TenantctlError, describeError, toTenantctlError } from '../errors.js';
import { controlVersion } from '../control/ensure.js';
import { readSharedJournal, recordShared } from '../control/journal.js';
import { runTransaction, withSession } from '../db/session.js';
import { classify } from '../sqlstate.js';
import { MigrationFailure, runMigrationActions } from '../migrations/builder.js';
import { planUp } from '../migrations/plan.js';
import { databaseOid, sharedRoleName } from '../roles/names.js';
import { ensureSharedRole } from '../roles/grants.js';
import { ident, literal } from '../util/quote.js';
import { nameFailingMigration } from '../migrations/diagnose.js';
import type { LoadedMigration } from '../migrations/types.js';
import type { Context } from '../context.js';
import { sharedMigrations } from '../runtime/migration-files.js';
import { citusOf } from '../citus/detect.js';
import { ensureReferenceTables } from '../citus/reference.js';

export interface SharedMigrateResult {
  applied: string[];
  pending: string[];
  /** On Citus: shared tables this run made reference tables. */
  referenceTables?: string[];
}

/**
 * Applies pending shared migrations once, in one transaction with the configured
 * timeouts, under the control lock (a second run waits, then finds nothing to
 * do). With roles on, the shared role is (re)granted afterwards so tenant roles
 * can read new shared tables.
 */
export async function migrateShared(ctx: Context, options: { dryRun?: boolean } = {}): Promise<SharedMigrateResult> {
  const files = await sharedMigrations(ctx);
  if (options.dryRun) {
    const journal = (await controlVersion(ctx)) > 0 ? await readSharedJournal(ctx.pool, ctx) : [];
    return { applied: [], pending: planUp(files.list, journal).pending.map((m) => m.name) };
  }
  try {
    return await applyShared(ctx, files.list);
  } catch (caught) {
    if (caught instanceof TenantctlError) throw caught;
    const err = caught instanceof MigrationFailure ? await nameShared(ctx, files.list, caught) : caught;
    const cause = err instanceof MigrationFailure ? err.cause : err;
    const kind = classify(cause);
    if (kind === 'connection' || kind === 'retryable' || kind === 'auth' || kind === 'missing-database') throw toTenantctlError(cause);
    const where =
      err instanceof MigrationFailure && err.migration
        ? ` in ${files.dir}/${err.migration}${err.position ? ` (line ${err.position.line})` : ''}`
        : '';
    throw new RunFailure(
      'shared_migration_failed',
      `shared migration failed${where}: ${describeError(cause)}; rolled back, no tenant was touched`,
      {
        migration: err instanceof MigrationFailure ? (err.migration ?? null) : null,
      },
    );
  }
}

/** Which shared migration failed, when the server did not say where. */
async function nameShared(ctx: Context, files: LoadedMigration[], failure: MigrationFailure): Promise<MigrationFailure> {
  if (failure.migration !== undefined) return failure;
  return withSession(ctx.pool, async (client) => {
    const pending = planUp(files, (await controlVersion(ctx)) > 0 ? await readSharedJournal(client, ctx) : []).pending;
    const prologue = `CREATE SCHEMA IF NOT EXISTS ${ident(ctx.config.sharedSchema)}; SELECT set_config('search_path', ${literal(ident(ctx.config.sharedSchema))}, true)`;
    return nameFailingMigration(
      client,
      ctx.config,
      { controlLock: true },
      { migrations: pending, direction: 'up', prologue, log: ctx.log },
      failure,
    );
  });
}

async function applyShared(ctx: Context, files: LoadedMigration[]): Promise<SharedMigrateResult> {
  const citus = await citusOf(ctx);
  return withSession(ctx.pool, (client) =>
    runTransaction(client, ctx.config, { controlLock: true }, async () => {
      const plan = planUp(files, await readSharedJournal(client, ctx));
      if (plan.pending.length > 0) {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(ctx.config.sharedSchema)}`);
        await client.query(`SELECT set_config('search_path', quote_ident($1), true)`, [ctx.config.sharedSchema]);
        await runMigrationActions(client, plan.pending, 'up', ctx.log);
        await recordShared(client, ctx, plan.pending);
      }
      // Before the grants: a reference table made here gets them on every node with the GRANT below.
      const referenceTables = citus ? await ensureReferenceTables(client, ctx) : [];
      if (ctx.config.roles) {
        // Grants only when something changed: a GRANT rewrites pg_class rows that a concurrent
        // tenant create touches too (its foreign keys to shared tables), and would collide with it.
        const role = sharedRoleName(await databaseOid(client, ctx));
        const exists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount === 1;
        if (!exists || plan.pending.length > 0 || referenceTables.length > 0) {
          await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(ctx.config.sharedSchema)}`);
          await ensureSharedRole(client, ctx.config, role);
        }
      }
      return { applied: plan.pending.map((m) => m.name), pending: [], ...(referenceTables.length > 0 ? { referenceTables } : {}) };
    }),
  );
}
