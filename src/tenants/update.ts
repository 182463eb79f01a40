import { tenantArchived, tenantGoneMeanwhile, tenantLocked, usage } from '../errors.js';
import { ensureControlSchema } from '../control/ensure.js';
import { logOperationSql } from '../control/oplog.js';
import { updateTenantFields } from '../control/tenants.js';
import { inTransaction, withSession } from '../db/session.js';
import { assertTenantId, assertText } from '../runtime/ids.js';
import type { Context } from '../context.js';
import { findTenants } from '../runtime/lookup.js';
import { contextOf } from '../runtime/route.js';
import { assertStatus, showTenant, type TenantDetail } from './list.js';

export interface UpdateTenantOptions {
  id: string;
  name?: string;
  set?: Record<string, string>;
  unset?: string[];
  /** active or suspended; archiving is `tenant remove`. */
  status?: string;
}

/** Checks update's options without a database; returns the fields it changes. */
export function validateUpdateOptions(options: UpdateTenantOptions): string[] {
  assertTenantId(options.id);
  if (options.status !== undefined) assertStatus(options.status, ['active', 'suspended']);
  if (options.name !== undefined) assertText('--name', options.name);
  for (const [k, v] of Object.entries(options.set ?? {})) {
    assertText('--set', k);
    assertText('--set', v);
  }
  for (const k of options.unset ?? []) if (k.trim() === '') throw usage('--unset needs a config key, got an empty one');
  const changed = [
    ...(options.name !== undefined ? ['name'] : []),
    ...(options.status !== undefined ? ['status'] : []),
    ...Object.keys(options.set ?? {}).map((k) => `config.${k}`),
    ...(options.unset ?? []).map((k) => `config.${k}`),
  ];
  if (changed.length === 0) throw usage('nothing to update: give --name, --set, --unset or --status');
  return changed;
}

/** Changes registry fields and tenant config in one statement, logged, under the tenant's lock. */
export async function updateTenant(ctx: Context, options: UpdateTenantOptions): Promise<{ tenant: TenantDetail; changed: string[] }> {
  const changed = validateUpdateOptions(options);
  const [tenant] = await findTenants(ctx, [options.id]);
  // On the tenant's own server (the placements map), where its registry row and log are.
  const sctx = contextOf(ctx, tenant!);
  await ensureControlSchema(sctx);
  if (tenant!.status === 'archived') throw tenantArchived(options.id);
  const outcome = await withSession(sctx.pool, (client) =>
    inTransaction(client, sctx.config, { lock: { ids: [options.id] } }, async (tx) => {
      if (!(await updateTenantFields(client, sctx, options.id, options))) throw tenantGoneMeanwhile(options.id);
      tx.last(
        logOperationSql(sctx, 'update', options.id, {
          changed,
          before: { name: tenant!.name, status: tenant!.status, config: tenant!.config },
        }),
      );
    }),
  );
  if (outcome.locked) throw tenantLocked(options.id);
  return { ...(await showTenant(ctx, options.id)), changed };
}
