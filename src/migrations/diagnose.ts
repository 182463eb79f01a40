import type { Logger } from '../logger.js';
import { inTransaction, type BeginOptions, type SessionSettings } from '../db/session.js';
import type { PoolClient } from '../db/types.js';
import { MigrationFailure, runMigrationActions, type Direction } from './builder.js';
import type { LoadedMigration } from './types.js';

/**
 * The server gave no position and several migrations went in one message: run
 * them again one message each, in a transaction that is always rolled back, to
 * find the one that fails. The original failure comes back named when the
 * failure happens again, unnamed otherwise. Costs nothing unless a run failed.
 */
export async function nameFailingMigration(
  client: PoolClient,
  settings: SessionSettings,
  begin: BeginOptions,
  run: { migrations: readonly LoadedMigration[]; direction: Direction; prologue: string; log: Logger },
  original: MigrationFailure,
): Promise<MigrationFailure> {
  if (original.migration !== undefined || run.migrations.length < 2) return original;
  try {
    await inTransaction(client, settings, begin, async (tx) => {
      tx.rollbackOnly();
      await runMigrationActions(client, run.migrations, run.direction, run.log, { prologue: run.prologue, flushEach: true });
    });
  } catch (err) {
    if (err instanceof MigrationFailure && err.migration) return new MigrationFailure(err.migration, original.cause, err.position);
  }
  return original;
}
