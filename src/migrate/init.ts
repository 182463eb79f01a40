import { ensureControlSchema } from '../control/ensure.js';
import type { Context } from '../context.js';
import { migrateShared } from './shared.js';

export interface InitResult {
  controlSchema: string;
  controlVersion: { from: number; to: number };
  shared: { applied: string[] };
}

/** Creates or upgrades the control schema and applies pending shared migrations. Idempotent. */
export async function init(ctx: Context): Promise<InitResult> {
  const controlVersion = await ensureControlSchema(ctx);
  const shared = await migrateShared(ctx);
  return { controlSchema: ctx.config.controlSchema, controlVersion, shared: { applied: shared.applied } };
}
