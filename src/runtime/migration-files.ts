import { statSync } from 'node:fs';
import { InputError } from '../errors.js';
import { loadMigrations } from '../migrations/load.js';
import type { LoadedMigrations } from '../migrations/types.js';
import type { Context } from '../context.js';

/**
 * Tenant migration files, loaded once per context (once per run). The folder
 * must exist: a typo in the config would otherwise make empty tenants and pass
 * every check. An existing folder with no files yet holds no migrations.
 */
export async function tenantMigrations(ctx: Context): Promise<LoadedMigrations> {
  assertMigrationsFolder(ctx.config.tenantMigrations, 'tenantMigrations', true);
  ctx.cache.tenantMigrations ??= await loadMigrations(ctx.config.tenantMigrations);
  return ctx.cache.tenantMigrations;
}

/** Shared migration files; a shared folder that does not exist holds none (a fleet need not have shared tables). */
export async function sharedMigrations(ctx: Context): Promise<LoadedMigrations> {
  assertMigrationsFolder(ctx.config.sharedMigrations, 'sharedMigrations', false);
  ctx.cache.sharedMigrations ??= await loadMigrations(ctx.config.sharedMigrations);
  return ctx.cache.sharedMigrations;
}

/** Exit 2 naming the path and the config key when the folder is missing (where required) or is not a folder. */
export function assertMigrationsFolder(path: string, key: 'tenantMigrations' | 'sharedMigrations', required: boolean): void {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    if (!required) return;
    throw new InputError(
      'migrations_not_found',
      `migrations folder ${path} does not exist (config key "${key}"); create it or fix the path`,
      { path, key },
    );
  }
  if (!isDir)
    throw new InputError(
      'migrations_not_a_folder',
      `${path} is not a folder (config key "${key}"); point it at the folder of migration files`,
      { path, key },
    );
}
