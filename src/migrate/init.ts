import { ensureControlSchema } from '../control/ensure.js';
import type { Context } from '../context.js';
import { eachServer } from '../runtime/servers.js';
import { migrateShared } from './shared.js';
import { detectAndRecordCitus } from '../citus/detect.js';

export interface InitResult {
  controlSchema: string;
  controlVersion: { from: number; to: number };
  shared: { applied: string[]; referenceTables?: string[] };
  /** On a Citus coordinator: the extension's version (recorded in the control meta; tenants become distributed schemas). */
  citus?: { version: string };
  /** With servers in the config: the same for each server, home ("default") first. */
  servers?: { server: string; controlVersion: { from: number; to: number }; shared: { applied: string[] } }[];
}

/**
 * Creates or upgrades the control schema and applies pending shared migrations,
 * on the home server and on every server of the config's `servers` (each has
 * its own control schema for the tenants it holds, and the shared schema).
 * Idempotent; the servers run at once, and the first one that fails is thrown
 * after the others have finished.
 */
export async function init(ctx: Context): Promise<InitResult> {
  const outcomes = await eachServer(ctx, async (sctx) => {
    const controlVersion = await ensureControlSchema(sctx);
    const citus = await detectAndRecordCitus(sctx);
    const shared = await migrateShared(sctx);
    return {
      server: sctx.server,
      controlVersion,
      shared: { applied: shared.applied, ...(shared.referenceTables ? { referenceTables: shared.referenceTables } : {}) },
      citus,
    };
  });
  const failed = outcomes.find((o) => o.error !== undefined);
  if (failed) throw failed.error;
  const all = outcomes.map((o) => o.result!);
  const home = all[0]!;
  return {
    controlSchema: ctx.config.controlSchema,
    controlVersion: home.controlVersion,
    shared: home.shared,
    ...(home.citus ? { citus: home.citus } : {}),
    ...(all.length > 1 ? { servers: all.map(({ citus: _citus, ...rest }) => rest) } : {}),
  };
}
