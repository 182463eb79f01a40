import type { Logger } from '../logger.js';
import type { Queryable } from '../db/types.js';
import type { LoadedMigration } from './types.js';
import { withoutConcurrently } from './inline-concurrently.js';

export type Direction = 'up' | 'down';

/** Where each migration's SQL sits in a batch's text, to name the one that failed. */
export interface Segment {
  name: string;
  start: number;
  end: number;
}

export interface Batch {
  text: string;
  segments: Segment[];
}

export interface RunOptions {
  /** SQL sent first, with the first flush (e.g. CREATE SCHEMA). */
  prologue?: string;
  /** SQL sent with the last flush, after every migration (e.g. privilege fixes). */
  epilogue?: string;
  /** Do not send the last flush: return it, for the caller to send with its COMMIT. */
  deferLast?: boolean;
  /** One flush per migration (to find which one fails when the server does not say where). */
  flushEach?: boolean;
  /**
   * The transaction creates the schema the migrations build in, so no one else
   * sees into it before it commits: a migration that calls pgm.noTransaction()
   * runs in it too, its CONCURRENTLY statements in their plain forms.
   */
  inlineNonTransactional?: boolean;
}

/** A statement of the batch failed; `migration` names the file when it can be told. */
export class MigrationFailure extends Error {
  constructor(
    readonly migration: string | undefined,
    override readonly cause: unknown,
    readonly position?: { line: number; column: number },
  ) {
    super((cause as Error)?.message ?? String(cause));
  }
}

/**
 * Runs migrations' up or down actions against one client, inside a transaction
 * the caller opened. Builder output is buffered and sent as one multi-statement
 * query per flush: a run of pure builder migrations costs one round trip (none
 * with deferLast, which hands the text back to go with COMMIT). When a
 * migration talks to the database itself (pgm.db), buffered SQL is sent first,
 * so it sees exactly the state node-pg-migrate would give it. A failed flush is
 * rethrown as a MigrationFailure naming the migration the server's error
 * position falls in (or the only migration of the flush).
 */
export async function runMigrationActions(
  client: Queryable,
  migrations: readonly LoadedMigration[],
  direction: Direction,
  log: Logger,
  options: RunOptions = {},
): Promise<Batch> {
  let parts: { name: string | undefined; sql: string }[] = options.prologue ? [{ name: undefined, sql: options.prologue }] : [];
  const take = (): Batch => {
    const batch = toBatch(parts);
    parts = [];
    return batch;
  };
  const flush = async () => {
    if (parts.length === 0) return;
    const batch = take();
    try {
      await client.query(batch.text);
    } catch (err) {
      throw blame(batch, err);
    }
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
    try {
      if (action.length === 2) await new Promise<void>((done) => void (action as (p: unknown, r: () => void) => void)(pgm, done));
      else await action(pgm);
    } catch (err) {
      throw err instanceof MigrationFailure ? err : new MigrationFailure(migration.name, err);
    }
    let sql = pgm.getSqlSteps().join('\n');
    if (!pgm.isUsingTransaction()) {
      if (!options.inlineNonTransactional) {
        throw new MigrationFailure(
          migration.name,
          new Error(
            `migration ${migration.name} calls pgm.noTransaction() but runs here inside a transaction (shared migrations run in one; a tenant migration that queries pgm.db before calling pgm.noTransaction() is not seen as non-transactional in time); call pgm.noTransaction() first, and keep such statements out of shared migrations`,
          ),
        );
      }
      sql = await withoutConcurrently(sql);
    }
    parts.push({ name: migration.name, sql });
    if (options.flushEach) await flush();
  }
  if (options.epilogue) parts.push({ name: undefined, sql: options.epilogue });
  if (options.deferLast) return take();
  await flush();
  return { text: '', segments: [] };
}

function toBatch(parts: { name: string | undefined; sql: string }[]): Batch {
  let text = '';
  const segments: Segment[] = [];
  for (const part of parts) {
    const sql = part.sql.trim();
    if (!sql) continue;
    if (text) text += '\n';
    const start = text.length;
    text += sql.endsWith(';') ? sql : `${sql};`;
    if (part.name !== undefined) segments.push({ name: part.name, start, end: text.length });
  }
  return { text, segments };
}

/**
 * Names the migration a failed batch's error belongs to: the server's error
 * position (1-based, in characters of the text sent) when it gives one, else the
 * batch's only migration. Undefined when it cannot be told.
 */
export function blame(batch: Batch, err: unknown): MigrationFailure {
  if (err instanceof MigrationFailure) return err;
  const position = Number((err as { position?: string }).position);
  if (Number.isInteger(position) && position > 0) {
    const at = position - 1;
    const segment = batch.segments.find((s) => at >= s.start && at < s.end);
    if (segment) {
      const before = batch.text.slice(segment.start, at);
      const line = before.split('\n').length;
      const column = at - segment.start - before.lastIndexOf('\n');
      return new MigrationFailure(segment.name, err, { line, column });
    }
    return new MigrationFailure(undefined, err);
  }
  const only = batch.segments.length === 1 ? batch.segments[0]!.name : undefined;
  return new MigrationFailure(only, err);
}

function pickAction(migration: LoadedMigration, direction: Direction) {
  if (direction === 'up') {
    if (typeof migration.up !== 'function')
      throw new MigrationFailure(migration.name, new Error(`migration ${migration.name} has no up action`));
    return { action: migration.up, reverse: false };
  }
  if (migration.down === false)
    throw new MigrationFailure(migration.name, new Error(`migration ${migration.name} cannot be rolled back: its down is disabled`));
  if (migration.down === undefined) {
    if (typeof migration.up !== 'function')
      throw new MigrationFailure(migration.name, new Error(`migration ${migration.name} has no up action`));
    // node-pg-migrate infers the down from the up when none is given.
    return { action: migration.up, reverse: true };
  }
  return { action: migration.down, reverse: false };
}

/** Builds without a database, per migration and direction: they do not change while the process runs. */
const offlineCache = new WeakMap<LoadedMigration, Partial<Record<Direction, Promise<OfflineBuild>>>>();

export interface OfflineBuild {
  /** False when the migration calls pgm.noTransaction(). */
  transactional: boolean;
  /** The SQL steps it builds without a database (up to a pgm.db query, if it makes one). */
  steps: string[];
}

/**
 * Builds a migration once with a stand-in database: whether it runs in a
 * transaction, and the SQL it builds. A migration that queries the database
 * before calling pgm.noTransaction() counts as transactional, and
 * runMigrationActions says so when it runs.
 */
export function buildOffline(migration: LoadedMigration, direction: Direction): Promise<OfflineBuild> {
  const cached = offlineCache.get(migration)?.[direction];
  if (cached) return cached;
  const build = (async (): Promise<OfflineBuild> => {
    let action;
    let reverse;
    try {
      ({ action, reverse } = pickAction(migration, direction));
    } catch {
      // No action for this direction: the real run reports it.
      return { transactional: true, steps: [] };
    }
    const refuse = async () => {
      throw new Error('no database while planning');
    };
    const { MigrationBuilder } = await import('node-pg-migrate/migrationBuilder');
    const quiet = () => undefined;
    const pgm = new MigrationBuilder({ query: refuse, select: refuse } as never, migration.shorthands, false, {
      debug: quiet,
      info: quiet,
      warn: quiet,
      error: quiet,
    });
    if (reverse) pgm.enableReverseMode();
    try {
      if (action.length === 2)
        await new Promise<void>(
          (done, fail) => void Promise.resolve((action as (p: unknown, r: () => void) => unknown)(pgm, done)).catch(fail),
        );
      else await action(pgm);
    } catch {
      // A migration that needs the database, or fails to build: the real run reports it.
    }
    return { transactional: pgm.isUsingTransaction(), steps: [...pgm.getSqlSteps()] };
  })();
  offlineCache.set(migration, { ...offlineCache.get(migration), [direction]: build });
  return build;
}

/** Whether a migration runs in a transaction (it does not call pgm.noTransaction()). */
export async function isTransactional(migration: LoadedMigration, direction: Direction): Promise<boolean> {
  return (await buildOffline(migration, direction)).transactional;
}

/**
 * Builds one non-transactional migration against the client (its pgm.db
 * queries run there, outside any transaction) and returns its SQL steps, in
 * order, without running them: the caller runs them one statement at a time.
 */
export async function buildSteps(client: Queryable, migration: LoadedMigration, direction: Direction, log: Logger): Promise<string[]> {
  const { action, reverse } = pickAction(migration, direction);
  const db = {
    query: (...args: unknown[]) => (client.query as (...a: unknown[]) => Promise<unknown>)(...args),
    select: async (...args: unknown[]) =>
      ((await (client.query as (...a: unknown[]) => Promise<{ rows: unknown[] }>)(...args)) as { rows: unknown[] }).rows,
  };
  const { MigrationBuilder } = await import('node-pg-migrate/migrationBuilder');
  const pgm = new MigrationBuilder(db as never, migration.shorthands, false, {
    debug: log.debug,
    info: log.debug,
    warn: log.warn,
    error: log.warn,
  });
  if (reverse) pgm.enableReverseMode();
  try {
    if (action.length === 2) await new Promise<void>((done) => void (action as (p: unknown, r: () => void) => void)(pgm, done));
    else await action(pgm);
  } catch (err) {
    throw new MigrationFailure(migration.name, err);
  }
  return [...pgm.getSqlSteps()];
}
