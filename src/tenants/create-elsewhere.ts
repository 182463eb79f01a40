import { keyTaken, tenantExists } from '../errors.js';
import { ensureControlSchema } from '../control/ensure.js';
import { findClashes } from '../control/tenants.js';
import { readPlacements, setPlacement, tenantsPerServer } from '../control/placements.js';
import { runTransaction, withSession } from '../db/session.js';
import type { Context } from '../context.js';
import { serverContext } from '../runtime/servers.js';
import { schemaNameFor } from './provision.js';
import type { CreateTenantsOptions, CreateTenantsResult } from './create-types.js';

/**
 * The one way a tenant comes into being on another server of the fleet
 * (create --server, import --server, clone of a tenant there). The home
 * server's registry and placements map are checked first (ids and keys are
 * unique across the fleet) and the ids' locks taken there; then `make` runs
 * the single-server path on that server's context (its own control schema,
 * registry row, schema, role, migrations, journal, one transaction each);
 * then the map records where each tenant `made` names lives, in the
 * transaction that holds the locks. A crash between the two leaves a tenant on
 * the server that the map does not point at: invisible, and the same command
 * run again adopts it (its single-server path reports it `exists`) or refuses
 * it as a leftover.
 */
export async function makeElsewhere<T>(
  ctx: Context,
  server: string,
  wanted: readonly { id: string; key: string }[],
  make: (sctx: Context) => Promise<T>,
  made: (result: T) => readonly { id: string; key: string }[],
): Promise<T> {
  const sctx = serverContext(ctx, server);
  await ensureControlSchema(ctx);
  const ids = wanted.map((w) => w.id);
  return withSession(ctx.pool, (client) =>
    runTransaction(client, ctx.config, { lock: { ids, wait: true } }, async () => {
      const placed = await readPlacements(client, ctx, ids);
      const clashes = await findClashes(
        client,
        ctx,
        wanted.map((w) => ({ id: w.id, schema: schemaNameFor(ctx.config, w.id), key: w.key })),
      );
      for (const c of clashes) {
        const here = placed.get(c.id);
        // Registered on the home server, or placed on another one: that id is taken.
        if (c.registered && here?.server !== server) throw tenantExists(c.id);
        if (c.keyOwner !== null) throw keyTaken(wanted.find((w) => w.id === c.id)!.key, c.keyOwner);
      }
      const result = await make(sctx);
      for (const t of made(result)) await setPlacement(client, ctx, { id: t.id, server, key: t.key });
      return result;
    }),
  );
}

/** `tenant create --server NAME`: the tenants made on that server by the single-server create. */
export async function createElsewhere(
  ctx: Context,
  ids: string[],
  server: string,
  options: CreateTenantsOptions,
  create: (sctx: Context, options: CreateTenantsOptions) => Promise<CreateTenantsResult>,
): Promise<CreateTenantsResult> {
  const key = (id: string) => options.key ?? id;
  const result = await makeElsewhere(
    ctx,
    server,
    ids.map((id) => ({ id, key: key(id) })),
    (sctx) => create(sctx, { ...options, server: undefined }),
    (r) => r.tenants.filter((t) => t.status === 'created' || t.status === 'exists').map((t) => ({ id: t.id, key: key(t.id) })),
  );
  return { ...result, tenants: result.tenants.map((t) => ({ ...t, server })) };
}

/**
 * The server `tenant create` without --server uses: the home server, or with
 * config placement "fewest-tenants" the server of the fleet that holds the
 * fewest (home first on a tie). One query; the whole batch goes to one server.
 */
export async function defaultServer(ctx: Context): Promise<string> {
  if (ctx.config.placement === 'home' || ctx.servers.names().length === 1) return ctx.server;
  await ensureControlSchema(ctx);
  const counts = await tenantsPerServer(ctx.pool, ctx);
  let best = ctx.server;
  for (const name of ctx.servers.names()) if ((counts.get(name) ?? 0) < (counts.get(best) ?? 0)) best = name;
  return best;
}
