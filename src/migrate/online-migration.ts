// One non-transactional migration (pgm.noTransaction()) for one tenant: statement by statement outside
// a transaction, leftovers of an interrupted earlier run cleared first, recorded only when every statement
// succeeded and nothing it builds is left INVALID.
import type { Context } from '../context.js';
import { recordAppliedSql, recordRevertedSql } from '../control/journal.js';
import type { PoolClient } from '../db/types.js';
import { buildSteps, MigrationFailure, type Direction } from '../migrations/builder.js';
import type { LoadedMigration } from '../migrations/types.js';
import { revokePublicSql } from '../roles/grants.js';
import { afterStatement, beforeStatement } from './online-repair.js';
import { splitStatements } from './online-statements.js';

export interface OnlineMigrationOutcome {
  /** Leftovers of an interrupted run that were cleared (INVALID indexes dropped, a detach finalized). */
  repaired: string[];
}

/**
 * Runs on a session that holds the tenant's lock and points at the tenant
 * (holdTenantLock, sessionAsTenantSql). A failed statement is a
 * MigrationFailure naming the migration; the journal is then left as it was.
 */
export async function runOnlineMigration(
  client: PoolClient,
  ctx: Context,
  tenant: { id: string; schema: string },
  migration: LoadedMigration,
  direction: Direction,
): Promise<OnlineMigrationOutcome> {
  const repaired: string[] = [];
  const steps = await buildSteps(client, migration, direction, ctx.log);
  const statements = await splitStatements(steps);
  for (const st of statements) {
    try {
      let sql = st.sql;
      if (st.interruptible) {
        const before = await beforeStatement(client, st.interruptible);
        repaired.push(...before.repaired);
        if (before.repaired.length)
          ctx.log.info(`${tenant.id}: ${migration.name}: cleared ${before.repaired.join(', ')} left by an interrupted run`);
        if (!before.run) {
          ctx.log.info(`${tenant.id}: ${migration.name}: ${before.note}`);
          continue;
        }
        sql = before.sql ?? sql;
      }
      await client.query(sql);
      if (st.interruptible) {
        const left = await afterStatement(client, st.interruptible);
        if (left) throw new Error(`${left}; it is not recorded as applied, and the next run drops it and builds it again`);
      }
    } catch (err) {
      if (err instanceof MigrationFailure) throw err;
      throw new MigrationFailure(migration.name, st.interruptible ? withHint(err, st.interruptible.kind) : err);
    }
  }
  const record = direction === 'up' ? recordAppliedSql(ctx, tenant.id, [migration]) : recordRevertedSql(ctx, tenant.id, [migration.name]);
  try {
    await client.query(`${ctx.config.roles ? `${revokePublicSql(tenant.schema)}; ` : ''}${record}`); // both parts built with ident() and literal()
  } catch (err) {
    throw new MigrationFailure(migration.name, err);
  }
  return { repaired };
}

const HINTS = {
  'create-index': 'not recorded; the next run drops the INVALID index it left and builds it again',
  reindex: 'not recorded; the next run drops the INVALID copies it left and reindexes again',
  detach: 'not recorded; the next run finalizes the detach',
} as const;

/** The server's error with what the next run does about it; its SQLSTATE is kept. */
function withHint(err: unknown, kind: keyof typeof HINTS): unknown {
  const e = err as { message?: unknown; code?: unknown };
  if (typeof e?.message !== 'string') return err;
  return Object.assign(new Error(`${e.message} (${HINTS[kind]})`), { code: e.code });
}
