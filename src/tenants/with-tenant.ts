import { InputError } from '../errors.js';
import type { Pool, PoolClient } from '../db/types.js';
import { ident } from '../util/quote.js';
import { SESSION_RESET, TENANT_SEARCH_PATH } from '../migrations/tenant-tx.js';
import { assertTenantId } from '../runtime/ids.js';

export interface WithTenantOptions {
  /** The control schema that holds the registry (default "tenantctl"). */
  controlSchema?: string;
  /** The shared schema, second on the search_path (default "public"). */
  sharedSchema?: string;
  /** Also run for suspended tenants (exec does; application code should not). */
  allowSuspended?: boolean;
}

/**
 * Runs `fn` in one transaction as the tenant: its schema first on the
 * search_path, then the shared schema; its role (when it has one); and the
 * settings tenantctl.tenant_id and tenantctl.tenant_key, for row level security
 * policies (current_setting('tenantctl.tenant_key')). Everything is SET LOCAL,
 * so it ends with the transaction; session-level SETs, temporary tables, LISTENs and
 * session advisory locks made by `fn` are dropped before the connection goes back to the pool, and a connection that cannot be
 * reset is destroyed instead of reused.
 */
export async function withTenant<T>(pool: Pool, id: string, fn: (client: PoolClient) => Promise<T>, options: WithTenantOptions = {}): Promise<T> {
  assertTenantId(id);
  const control = ident(options.controlSchema ?? 'tenantctl');
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    try {
      const r = await client.query<{ role: string | null; status: string }>(
        `SELECT t.role_name AS role, t.status,
           set_config('search_path', ${TENANT_SEARCH_PATH.replace('$1', 't.schema_name')}, true),
           set_config('tenantctl.tenant_id', t.id, true),
           set_config('tenantctl.tenant_key', t.key, true)
         FROM ${control}.tenants t WHERE t.id = $1 AND t.status = ANY($3)`,
        [id, options.sharedSchema ?? 'public', options.allowSuspended ? ['active', 'suspended'] : ['active']],
      );
      const tenant = r.rows[0];
      if (!tenant) throw new InputError('unknown_tenant', `no active tenant "${id}"; see \`tenantctl tenant list\``, { ids: [id] });
      if (tenant.role) await client.query(`SET LOCAL ROLE ${ident(tenant.role)}`);
      const result = await fn(client);
      const end = await client.query('COMMIT');
      // fn swallowed an error: the server rolled the transaction back instead of committing it.
      if (end.command === 'ROLLBACK') throw new Error(`withTenant("${id}"): the transaction failed inside fn and was rolled back; nothing was committed`);
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    try {
      await client.query(`${SESSION_RESET}; UNLISTEN *; SELECT pg_advisory_unlock_all()`);
    } catch (err) {
      broken = err as Error;
    }
    client.release(broken);
  }
}
