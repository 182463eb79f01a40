import { unknownTenants } from '../errors.js';
import { readTenants, type TenantFilter, type TenantWithJournal } from '../control/tenants.js';
import { PLACEMENTS_SINCE, isPlacedOn, readPlacements, type Placement } from '../control/placements.js';
import { readyVersion } from '../control/ensure.js';
import type { Context } from '../context.js';
import { DatabaseError, describeError, serverUnreachable } from '../errors.js';
import { assertTenantId, uniqueIds } from './ids.js';
import { serverContext } from './servers.js';

/** Validates ids before any SQL runs. */
export function validateIds(ids: readonly string[] | undefined): string[] | undefined {
  if (!ids) return undefined;
  ids.forEach(assertTenantId);
  return uniqueIds(ids);
}

/** A tenant the placements map puts on a server this run could not read. */
export interface UnreachableTenant {
  id: string;
  server: string;
  error: string;
}

export interface FleetTenants {
  /** Every tenant found, with its journal and server, in id order. */
  tenants: TenantWithJournal[];
  /** Tenants on servers that could not be read: each command fails them (exit 3), not the run. */
  unreachable: UnreachableTenant[];
}

/**
 * The tenants a command works on, with their journals, over every server: one
 * query for the home registry, one for the placements map, and one per other
 * server that holds any of them. The named ones must each exist (exit 2
 * otherwise); without names, all with `status`. Without a control schema there
 * are no tenants, and nothing is created.
 */
export async function findFleetTenants(
  ctx: Context,
  ids: readonly string[] | undefined,
  status?: TenantFilter['status'],
  /** Only the tenants of this server: the others are not read. */
  onlyServer?: string,
  /** journal: false reads no journal (each tenant's is empty): for a command that never looks at it (query). */
  read: Pick<TenantFilter, 'journal'> = {},
): Promise<FleetTenants> {
  const wanted = validateIds(ids);
  const version = await readyVersion(ctx);
  if (version === 0) {
    if (wanted && wanted.length > 0) throw unknownTenants(wanted);
    return { tenants: [], unreachable: [] };
  }
  // A control schema older than the placements map (read-only commands do not upgrade it) has every tenant at home.
  const [home, placements] = await Promise.all([
    onlyServer === undefined || onlyServer === 'default'
      ? readTenants(ctx.pool, ctx, wanted ? { ids: wanted, ...read } : { status, ...read })
      : [],
    version >= PLACEMENTS_SINCE ? readPlacements(ctx.pool, ctx, wanted) : new Map<string, Placement>(),
  ]);
  const byServer = new Map<string, string[]>();
  for (const p of placements.values())
    if (onlyServer === undefined || p.server === onlyServer) byServer.set(p.server, [...(byServer.get(p.server) ?? []), p.id]);
  const unreachable: UnreachableTenant[] = [];
  const remote = await Promise.all(
    [...byServer].map(async ([server, placed]) => {
      try {
        const sctx = serverContext(ctx, server);
        const rows = await readTenants(sctx.pool, sctx, wanted ? { ids: placed, ...read } : { ids: placed, status, ...read });
        // A placement whose server has no such tenant (dropped there by hand) is reported, not skipped.
        const found = new Set(rows.map((r) => r.id));
        const lost = wanted ? placed.filter((id) => !found.has(id)) : [];
        for (const id of lost)
          unreachable.push({
            id,
            server,
            error: serverUnreachable(server, `has no tenant "${id}", which the placements map puts there (dropped by hand?)`).message,
          });
        return rows;
      } catch (err) {
        for (const id of placed)
          unreachable.push({ id, server, error: serverUnreachable(server, `cannot be reached: ${describeError(err)}`).message });
        return [];
      }
    }),
  );
  // A row on the home server for an id placed elsewhere cannot be: placement wins (the home row would be a leftover).
  const others = remote.flat();
  let tenants = home.filter((t) => isPlacedOn(placements, 'default', t.id));
  if (others.length > 0) tenants = [...tenants, ...others].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (wanted) {
    // The pool's spares are not tenants yet: a command naming one does not find it (migrate and verify of all tenants include them).
    tenants = tenants.filter((r) => !r.pooled);
    const found = new Set([...tenants.map((r) => r.id), ...unreachable.map((u) => u.id)]);
    const unknown = wanted.filter((id) => !found.has(id));
    if (unknown.length > 0) throw unknownTenants(unknown);
  }
  unreachable.sort((a, b) => (a.id < b.id ? -1 : 1));
  return { tenants, unreachable };
}

/**
 * findFleetTenants for commands that need every named tenant readable: a
 * tenant on a server that cannot be reached fails the command (exit 3).
 */
export async function findTenants(
  ctx: Context,
  ids: readonly string[] | undefined,
  status?: TenantFilter['status'],
): Promise<TenantWithJournal[]> {
  const fleet = await findFleetTenants(ctx, ids, status);
  const first = fleet.unreachable[0];
  if (first) throw new DatabaseError('server_unreachable', first.error, { server: first.server, ids: fleet.unreachable.map((u) => u.id) });
  return fleet.tenants;
}
