// The SQL a migration file generates, without a database: its up action runs through node-pg-migrate's
// MigrationBuilder (as builder.ts does), and the SQL is captured instead of sent.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { LoadedMigration } from './types.js';

export interface RenderedMigration {
  name: string;
  path: string;
  kind: 'sql' | 'js';
  /** False when the migration calls pgm.noTransaction(). */
  transactional: boolean;
  /** The builder's SQL steps, in order (an SQL file gives one: its Up part). */
  steps: string[];
  /** SQL files: the file's text and where its Up part starts in it (characters), so lines map back to the file. */
  source?: { text: string; offset: number };
  /** The migration queried the database (pgm.db) while building: SQL it would build after that is not seen. */
  queriedDatabase: boolean;
  /** The up action threw for another reason. */
  error?: string;
}

/** Thrown by the stand-in database: no database is there to answer. */
class NoDatabase extends Error {}

export async function renderMigration(migration: LoadedMigration): Promise<RenderedMigration> {
  const kind = extname(migration.path).toLowerCase() === '.sql' ? 'sql' : 'js';
  const base = { name: migration.name, path: migration.path, kind } as const;
  if (typeof migration.up !== 'function')
    return { ...base, transactional: true, steps: [], queriedDatabase: false, error: 'the migration has no up action' };
  const refuse = async () => {
    throw new NoDatabase('no database while linting');
  };
  const db = { query: refuse, select: refuse };
  const quiet = () => undefined;
  // Loaded on first use, as builder.ts does.
  const { MigrationBuilder } = await import('node-pg-migrate/migrationBuilder');
  const pgm = new MigrationBuilder(db as never, migration.shorthands, false, { debug: quiet, info: quiet, warn: quiet, error: quiet });
  const up = migration.up;
  let queriedDatabase = false;
  let error: string | undefined;
  try {
    if (up.length === 2)
      await new Promise<void>((done, fail) => void Promise.resolve((up as (p: unknown, r: () => void) => unknown)(pgm, done)).catch(fail));
    else await up(pgm);
  } catch (err) {
    if (err instanceof NoDatabase) queriedDatabase = true;
    else error = err instanceof Error ? err.message : String(err);
  }
  const steps = [...pgm.getSqlSteps()];
  const rendered: RenderedMigration = {
    ...base,
    transactional: pgm.isUsingTransaction(),
    steps,
    queriedDatabase,
    ...(error ? { error } : {}),
  };
  if (kind === 'sql' && steps.length === 1) {
    const text = readFileSync(migration.path, 'utf8');
    const step = steps[0]!;
    // pgm.sql() appends a ";" when the Up part does not end with one.
    let offset = text.indexOf(step);
    if (offset < 0 && step.endsWith(';')) offset = text.indexOf(step.slice(0, -1));
    if (offset >= 0) rendered.source = { text, offset };
  }
  return rendered;
}
