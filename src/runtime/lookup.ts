import { unknownTenants } from '../errors.js';
import { readTenants, type TenantFilter, type TenantWithJournal } from '../control/tenants.js';
import { controlReady } from '../control/ensure.js';
import type { Context } from '../context.js';
import { assertTenantId, uniqueIds } from './ids.js';

/** Validates ids before any SQL runs. */
export function validateIds(ids: readonly string[] | undefined): string[] | undefined {
  if (!ids) return undefined;
  ids.forEach(assertTenantId);
  return uniqueIds(ids);
}

/**
 * The tenants a command works on, with their journals, in one round trip:
 * the named ones (each must exist: exit 2 otherwise), or all with `status`.
 * Without a control schema there are no tenants, and nothing is created.
 */
export async function findTenants(
  ctx: Context,
  ids: readonly string[] | undefined,
  status?: TenantFilter['status'],
): Promise<TenantWithJournal[]> {
  const wanted = validateIds(ids);
  if (!(await controlReady(ctx))) {
    if (wanted && wanted.length > 0) throw unknownTenants(wanted);
    return [];
  }
  let rows = await readTenants(ctx.pool, ctx, wanted ? { ids: wanted } : { status });
  if (wanted) {
    // The pool's spares are not tenants yet: a command naming one does not find it (migrate and verify of all tenants include them).
    rows = rows.filter((r) => !r.pooled);
    const found = new Set(rows.map((r) => r.id));
    const unknown = wanted.filter((id) => !found.has(id));
    if (unknown.length > 0) throw unknownTenants(unknown);
  }
  return rows;
}
