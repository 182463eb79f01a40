// `migrate lint FILE...`: the given migration files, checked before anything is loaded, linted as one run
// in the order given; no database is needed.
import { existsSync, statSync } from 'node:fs';
import { basename, extname, resolve, sep } from 'node:path';
import type { Config } from '../config/types.js';
import { InputError } from '../errors.js';
import { renderMigration } from '../migrations/render.js';
import type { LoadedMigration } from '../migrations/types.js';
import { parseFailOn } from '../verify/run.js';
import { lintRun } from './lint-run.js';
import { lintResult } from './result.js';
import type { LintResult } from './types.js';

const EXTENSIONS = new Set(['.js', '.cjs', '.mjs', '.ts', '.cts', '.mts', '.sql']);

export interface LintFilesOptions {
  files: string[];
  /** Relative paths resolve against it (default: the process's working directory). */
  cwd?: string;
  /** The lowest level that makes the result not ok (default error). */
  failOn?: string;
  /** The config: with a "citus" key, tenant migration files (not those under sharedMigrations) get Citus's rules too. */
  config?: Pick<Config, 'citus' | 'sharedSchema' | 'sharedMigrations'>;
}

/** Checks the paths and the level without reading any file: bad input is reported before anything runs. */
export function validateLintFiles(options: LintFilesOptions): { paths: string[]; failOn: ReturnType<typeof parseFailOn> } {
  const failOn = parseFailOn(options.failOn);
  if (options.files.length === 0) throw new InputError('usage', 'no migration file given');
  const paths = options.files.map((f) => resolve(options.cwd ?? process.cwd(), f));
  for (const [i, path] of paths.entries()) {
    if (!existsSync(path) || !statSync(path).isFile())
      throw new InputError('file_not_found', `no migration file ${options.files[i]}; check the path`);
    if (!EXTENSIONS.has(extname(path).toLowerCase())) {
      throw new InputError('usage', `${options.files[i]} is not a migration file (.js, .ts or .sql)`);
    }
  }
  return { paths, failOn };
}

export async function lintFiles(options: LintFilesOptions): Promise<LintResult> {
  const { paths, failOn } = validateLintFiles(options);
  const migrations = await loadFiles(paths);
  const rendered = [];
  for (const m of migrations) rendered.push(await renderMigration(m));
  const c = options.config;
  const shared = c ? paths.every((p) => p.startsWith(`${c.sharedMigrations}${sep}`)) : false;
  const citus = c?.citus && !shared ? { citus: { referenceTables: c.citus.referenceTables, sharedSchema: c.sharedSchema } } : {};
  return lintResult(rendered, await lintRun(rendered, citus), failOn);
}

/** node-pg-migrate's own loaders, for files that need not sit in a migrations folder. */
async function loadFiles(paths: string[]): Promise<LoadedMigration[]> {
  const { loadMigrationUnits } = await import('node-pg-migrate/migrationLoader');
  const quiet = () => undefined;
  const list: LoadedMigration[] = [];
  let shorthands = {};
  for (const path of paths) {
    let units;
    try {
      units = await loadMigrationUnits({ logger: { debug: quiet, info: quiet, warn: quiet, error: quiet } }, [path]);
    } catch (err) {
      throw new InputError('migration_load_failed', `cannot load ${path}: ${(err as Error).message}`);
    }
    for (const unit of units) {
      shorthands = { ...shorthands, ...(unit.actions.shorthands ?? {}) };
      list.push({ name: basename(path, extname(path)), path, checksum: '', up: unit.actions.up, down: unit.actions.down, shorthands });
    }
  }
  return list;
}
