import type { Context } from '../context.js';
import { tenantArchived, unknownTenants } from '../errors.js';
import { readTenantRows, type TenantRow } from '../control/tenants.js';
import type { Queryable } from '../db/types.js';

/** The registry rows of the named tenants, read again inside the run; each must exist and not be archived. */
export async function usableTenants(db: Queryable, ctx: Context, ids: readonly string[]): Promise<TenantRow[]> {
  const rows = await readTenantRows(db, ctx, ids);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const missing = ids.filter((id) => !byId.has(id));
  if (missing.length > 0) throw unknownTenants(missing);
  return ids.map((id) => {
    const t = byId.get(id)!;
    assertNotArchived(t);
    return t;
  });
}

export function assertNotArchived(t: { id: string; status: string }): void {
  if (t.status === 'archived') throw tenantArchived(t.id);
}
