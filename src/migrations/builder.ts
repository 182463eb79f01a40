import type { Logger } from '../logger.js';
import type { Queryable } from '../db/types.js';
import type { LoadedMigration } from './types.js';

export type Direction = 'up' | 'down';

/**
 * Runs migrations' up or down actions against one client, inside a transaction
 * the caller opened. Builder output is buffered and sent as one multi-statement
 * query per flush: a run of pure builder migrations costs one round trip. When a
 * migration talks to the database itself (pgm.db), buffered SQL is sent first,
 * so it sees exactly the state node-pg-migrate would give it.
 */
export async function runMigrationActions(
  client: Queryable,
  migrations: readonly LoadedMigration[],
  direction: Direction,
  log: Logger,
  /** SQL sent with the last flush, after every migration (e.g. privilege fixes). */
  epilogue = '',
): Promise<void> {
  let buffered: string[] = [];
  const flush = async () => {
    if (buffered.length === 0) return;
    const text = buffered.join('\n');
    buffered = [];
    await client.query(text);
  };
  const db = {
    query: async (...args: unknown[]) => {
      await flush();
      return (client.query as (...a: unknown[]) => Promise<unknown>)(...args);
    },
    select: async (...args: unknown[]) => {
      await flush();
      const result = (await (client.query as (...a: unknown[]) => Promise<{ rows: unknown[] }>)(...args)) as { rows: unknown[] };
      return result.rows;
    },
  };
  const builderLog = { debug: log.debug, info: log.debug, warn: log.warn, error: log.warn };
  // Loaded on first use: commands that run no migration start faster.
  const { MigrationBuilder } = await import('node-pg-migrate/migrationBuilder');
  for (const migration of migrations) {
    const { action, reverse } = pickAction(migration, direction);
    const pgm = new MigrationBuilder(db as never, migration.shorthands, false, builderLog);
    if (reverse) pgm.enableReverseMode();
    if (action.length === 2) await new Promise<void>((done) => void (action as (p: unknown, r: () => void) => void)(pgm, done));
    else await action(pgm);
    if (!pgm.isUsingTransaction()) {
      throw new Error(
        `migration ${migration.name} calls pgm.noTransaction(); tenantctl runs each tenant's migrations in one transaction, so move that statement to a migration that can run inside one`,
      );
    }
    buffered.push(...pgm.getSqlSteps());
  }
  if (epilogue) buffered.push(epilogue);
  await flush();
}

function pickAction(migration: LoadedMigration, direction: Direction) {
  if (direction === 'up') {
    if (typeof migration.up !== 'function') throw new Error(`migration ${migration.name} has no up action`);
    return { action: migration.up, reverse: false };
  }
  if (migration.down === false) throw new Error(`migration ${migration.name} cannot be rolled back: its down is disabled`);
  if (migration.down === undefined) {
    if (typeof migration.up !== 'function') throw new Error(`migration ${migration.name} has no up action`);
    // node-pg-migrate infers the down from the up when none is given.
    return { action: migration.up, reverse: true };
  }
  return { action: migration.down, reverse: false };
}
