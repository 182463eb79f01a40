import { loadMigrations } from '../migrations/load.js';
import type { LoadedMigrations } from '../migrations/types.js';
import type { Context } from '../context.js';

/** Tenant migration files, loaded once per context (once per run). */
export async function tenantMigrations(ctx: Context): Promise<LoadedMigrations> {
  ctx.cache.tenantMigrations ??= await loadMigrations(ctx.config.tenantMigrations);
  return ctx.cache.tenantMigrations;
}

export async function sharedMigrations(ctx: Context): Promise<LoadedMigrations> {
  ctx.cache.sharedMigrations ??= await loadMigrations(ctx.config.sharedMigrations);
  return ctx.cache.sharedMigrations;
}
