import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { InputError } from '../errors.js';
import type { LoadedMigration, LoadedMigrations } from './types.js';

/**
 * Loads a folder of node-pg-migrate migrations once: the same file discovery,
 * ordering and loaders node-pg-migrate uses (.js/.ts through jiti, .sql split at
 * "-- Up/Down Migration"), so files work unchanged. A missing folder holds none.
 */
export async function loadMigrations(dir: string): Promise<LoadedMigrations> {
  if (!existsSync(dir)) return { dir, list: [], byName: new Map() };
  let units;
  try {
    // node-pg-migrate (and its loaders) load on first use: commands that read no migration start faster.
    const { getMigrationFilePaths } = await import('node-pg-migrate/migration');
    const { loadMigrationUnits } = await import('node-pg-migrate/migrationLoader');
    const paths = await getMigrationFilePaths(dir, { logger: quietLogger });
    units = await loadMigrationUnits({ logger: quietLogger }, paths);
  } catch (err) {
    throw new InputError('migration_load_failed', `cannot load migrations from ${dir}: ${(err as Error).message}`);
  }
  const list: LoadedMigration[] = [];
  let shorthands = {};
  for (const unit of units) {
    const first = unit.filePaths[0] ?? unit.id;
    const name = basename(first, extname(first));
    const hash = createHash('sha256');
    for (const path of unit.filePaths) hash.update(readFileSync(path));
    // node-pg-migrate lets a file's shorthands serve every later file too.
    shorthands = { ...shorthands, ...(unit.actions.shorthands ?? {}) };
    list.push({ name, path: first, checksum: hash.digest('hex').slice(0, 16), up: unit.actions.up, down: unit.actions.down, shorthands });
  }
  const byName = new Map(list.map((m) => [m.name, m]));
  if (byName.size !== list.length) throw new InputError('migration_load_failed', `${dir}: two migration files share a name`);
  return { dir, list, byName };
}

const quietLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
