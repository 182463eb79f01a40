import { describeError, TenantctlError } from '../errors.js';
import { ensureControlSchema } from '../control/ensure.js';
import type { Context } from './context.js';
import { migrateShared } from './shared-migrate.js';

export interface InitResult {
  controlSchema: string;
  controlVersion: { from: number; to: number };
  shared: { applied: string[] };
}

/** Creates or upgrades the control schema and applies pending shared migrations. Idempotent. */
export async function init(ctx: Context): Promise<InitResult> {
  const controlVersion = await ensureControlSchema(ctx);
  let shared;
  try {
    shared = await migrateShared(ctx);
  } catch (err) {
    throw new TenantctlError('shared_migration_failed', `shared migrations failed and were rolled back: ${describeError(err)}`, 1);
  }
  return { controlSchema: ctx.config.controlSchema, controlVersion, shared: { applied: shared.applied } };
}
