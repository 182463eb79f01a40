import { DatabaseError, InputError } from '../errors.js';
import { ensureControlSchema } from '../control/ensure.js';
import { logOperation } from '../control/oplog.js';
import { withClient } from '../db/with.js';
import { beginTenantTransaction, rollbackQuietly } from '../migrations/tenant-tx.js';
import { ident } from '../util/quote.js';
import type { Context } from '../context.js';
import { findTenants } from '../runtime/lookup.js';
import { assertStatus, showTenant, type TenantDetail } from './list.js';

export interface UpdateTenantOptions {
  id: string;
  name?: string;
  set?: Record<string, string>;
  unset?: string[];
  /** active or suspended; archiving is `tenant remove`. */
  status?: string;
}

/** Changes registry fields and tenant config in one statement, logged. */
export async function updateTenant(ctx: Context, options: UpdateTenantOptions): Promise<{ tenant: TenantDetail; changed: string[] }> {
  if (options.status !== undefined) assertStatus(options.status, ['active', 'suspended']);
  const changed = [
    ...(options.name !== undefined ? ['name'] : []),
    ...(options.status !== undefined ? ['status'] : []),
    ...Object.keys(options.set ?? {}).map((k) => `config.${k}`),
    ...(options.unset ?? []).map((k) => `config.${k}`),
  ];
  if (changed.length === 0) throw new InputError('usage', 'nothing to update: give --name, --set, --unset or --status');
  const [tenant] = await findTenants(ctx, [options.id]);
  await ensureControlSchema(ctx);
  if (tenant!.status === 'archived') {
    throw new InputError('tenant_archived', `tenant "${options.id}" is archived; restore it first with \`tenantctl tenant restore ${options.id}\``);
  }
  await withClient(ctx.pool, async (client) => {
    if (!(await beginTenantTransaction(client, ctx, options.id))) {
      throw new DatabaseError('tenant_locked', `another tenantctl run holds tenant "${options.id}"; retry when it finishes`);
    }
    try {
      const updated = await client.query(
        `UPDATE ${ident(ctx.config.controlSchema)}.tenants
         SET name = coalesce($2, name), status = coalesce($3, status),
             config = (config || $4::jsonb) - $5::text[], updated_at = now()
         WHERE id = $1 AND status <> 'archived'`,
        [options.id, options.name ?? null, options.status ?? null, JSON.stringify(options.set ?? {}), options.unset ?? []],
      );
      if (updated.rowCount === 0) throw new InputError('tenant_archived', `tenant "${options.id}" was archived or removed meanwhile; nothing changed`);
      await logOperation(client, ctx, 'update', options.id, {
        changed,
        before: { name: tenant!.name, status: tenant!.status, config: tenant!.config },
      });
      await client.query('COMMIT');
    } catch (err) {
      await rollbackQuietly(client);
      throw err;
    }
  });
  return { ...(await showTenant(ctx, options.id)), changed };
}
