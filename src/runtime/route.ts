import type { Context } from '../context.js';
import { readPlacements } from '../control/placements.js';
import { differentServers, toTenantctlError } from '../errors.js';
import { SQLSTATE, sqlstateOf } from '../sqlstate.js';
import { assertTenantId } from './ids.js';
import { homeContext, serverContext } from './servers.js';

/**
 * Where a tenant lives: the server the placements map (on the home server)
 * names for it, "default" when it has no placement. One query on the home
 * server; nothing on the others. Without a control schema (or its map), home.
 */
export async function tenantServer(ctx: Context, id: string): Promise<string> {
  assertTenantId(id);
  const home = homeContext(ctx);
  try {
    const placed = await readPlacements(home.pool, home, [id]);
    return placed.get(id)?.server ?? 'default';
  } catch (err) {
    // No control schema (or one from before the map): every tenant is on the home server.
    const code = sqlstateOf(err);
    if (code === SQLSTATE.UNDEFINED_TABLE || code === SQLSTATE.UNDEFINED_SCHEMA) return 'default';
    throw toTenantctlError(err);
  }
}

/** The context of the server a tenant lives on (serverContext of tenantServer): every single-server path runs on it unchanged. */
export async function tenantContext(ctx: Context, id: string): Promise<Context> {
  return serverContext(ctx, await tenantServer(ctx, id));
}

/** The context of the server of a tenant row already read (findTenants gives each its `server`). */
export function contextOf(ctx: Context, tenant: { server?: string }): Context {
  return serverContext(ctx, tenant.server ?? 'default');
}

/**
 * Two tenants a command works on together (copy, move, clone's source and an
 * existing target) must be on one server: exit 2 before any change otherwise,
 * naming `tenant relocate`, which moves a whole tenant between servers.
 */
export function assertOneServer(command: string, a: { id: string; server?: string }, b: { id: string; server?: string }): string {
  const sa = a.server ?? 'default';
  const sb = b.server ?? 'default';
  if (sa !== sb) throw differentServers(command, { id: a.id, server: sa }, { id: b.id, server: sb });
  return sa;
}
