import { InputError } from '../errors.js';
import { enterTenantSql } from '../control/tenants.js';
import { begin, commit, isBroken, markBroken, releaseClean, rollback, SwallowedFailure, type SessionSettings } from '../db/session.js';
import { isConnectionLoss } from '../sqlstate.js';
import type { PoolClient } from '../db/types.js';
import { assertTenantId } from '../runtime/ids.js';
import { tenantServer } from '../runtime/route.js';
import { homeContext, isMultiServer, serverContext } from '../runtime/servers.js';
import type { Context } from '../context.js';
import type { Pool } from '../db/types.js';

/** The part of a pg.Pool withTenant needs: any pool that hands out pg clients. */
export interface TenantPool {
  connect(): Promise<PoolClient>;
}

export interface WithTenantOptions {
  /** The control schema that holds the registry (default "tenantctl"). */
  controlSchema?: string;
  /** The shared schema, second on the search_path (default "public"). */
  sharedSchema?: string;
  /** Also run for suspended tenants (exec does; application code should not). */
  allowSuspended?: boolean;
  /** SET LOCAL statement_timeout / lock_timeout for the transaction (default: the server's). */
  statementTimeout?: string;
  lockTimeout?: string;
}

/**
 * Runs `fn` in one transaction as the tenant: its schema first on the
 * search_path, then the shared schema; its role (when it has one); and the
 * settings tenantctl.tenant_id and tenantctl.tenant_key, for row level
 * security policies (current_setting('tenantctl.tenant_key')). Everything is
 * local to the transaction. Before the connection goes back to the pool,
 * everything `fn` may have left on the session is dropped (cursors WITH HOLD,
 * prepared statements, session authorization, settings, LISTEN, advisory
 * locks, temporary tables) and checked; a connection that cannot be reset, or
 * is no longer the user the pool logged in as, is destroyed instead of reused,
 * also when COMMIT itself fails (a deferred constraint, a serialization
 * failure: the server's error is thrown). Two round trips besides fn's own:
 * BEGIN with the tenant's settings, and COMMIT with the reset.
 *
 * Given the tenantctl handle (or any Context) instead of a pool, it runs on
 * the server the tenant lives on: the placements map is read once per tenant
 * and handle (one query on the home server) and cached; a tenant no longer on
 * the cached server (relocated meanwhile) makes it read the map once more and
 * follow it. The control and shared schemas then come from the handle's
 * config (options still beat them).
 */
export async function withTenant<T>(
  target: TenantPool | Context,
  id: string,
  fn: (client: PoolClient) => Promise<T>,
  options: WithTenantOptions = {},
): Promise<T> {
  if (!isContext(target)) return withTenantOn(target, id, fn, options);
  const ctx = homeContext(target);
  const settings = { controlSchema: ctx.config.controlSchema, sharedSchema: ctx.config.sharedSchema, ...options };
  // One server: nothing to look up.
  if (!isMultiServer(ctx)) return withTenantOn(ctx.pool, id, fn, settings);
  assertTenantId(id);
  const cache = placementCache(ctx);
  const cached = cache.get(id);
  const server = cached ?? (await tenantServer(ctx, id));
  cache.set(id, server);
  try {
    return await withTenantOn(serverContext(ctx, server).pool, id, fn, settings);
  } catch (err) {
    // Not (or no longer) on the cached server: moved meanwhile? Read the map once more and follow it.
    if (cached === undefined || !(err instanceof InputError) || err.code !== 'unknown_tenant') throw err;
    const now = await tenantServer(ctx, id);
    if (now === server) throw err;
    cache.set(id, now);
    return withTenantOn(serverContext(ctx, now).pool, id, fn, settings);
  }
}

/**
 * The pool of the server a tenant lives on (the placements map, read once per
 * handle and then cached), for application code that hands out its own
 * connections. withTenant(handle, ...) is the leak-free way in; this is for
 * what it does not cover. The pool belongs to the handle: close() ends it.
 */
export async function poolFor(handle: Context, id: string): Promise<Pool> {
  const ctx = homeContext(handle);
  if (!isMultiServer(ctx)) return ctx.pool;
  const cache = placementCache(ctx);
  const server = cache.get(id) ?? (await tenantServer(ctx, id));
  cache.set(id, server);
  return serverContext(ctx, server).pool;
}

/** Where each tenant was last found, per handle (its home context), so a handle asks the map once per tenant. */
const placements = new WeakMap<Context, Map<string, string>>();

function placementCache(home: Context): Map<string, string> {
  let cache = placements.get(home);
  if (!cache) placements.set(home, (cache = new Map()));
  return cache;
}

function isContext(target: TenantPool | Context): target is Context {
  return 'servers' in target && 'config' in target && typeof (target as Context).servers?.pool === 'function';
}

/** The withTenant of one pool: BEGIN as the tenant, fn, COMMIT and the reset (or the rollback and the reset, or the connection destroyed). */
async function withTenantOn<T>(
  pool: TenantPool,
  id: string,
  fn: (client: PoolClient) => Promise<T>,
  options: WithTenantOptions,
): Promise<T> {
  assertTenantId(id);
  const settings: SessionSettings = {
    controlSchema: options.controlSchema ?? 'tenantctl',
    sharedSchema: options.sharedSchema ?? 'public',
    statementTimeout: options.statementTimeout ?? '',
    lockTimeout: options.lockTimeout ?? '',
  };
  const statuses = options.allowSuspended ? ['active', 'suspended'] : ['active'];
  const client = await pool.connect();
  let open = false;
  try {
    const b = await begin(client, settings, { prelude: [enterTenantSql(settings, id, statuses)] });
    if (b.locked) throw new Error('unreachable: no lock was asked for');
    open = true;
    if (b.prelude[0]?.rowCount !== 1)
      throw new InputError('unknown_tenant', `no active tenant "${id}"; see \`tenantctl tenant list\``, { ids: [id] });
    const result = await fn(client);
    try {
      await commit(client);
      open = false;
    } catch (err) {
      if (isConnectionLoss(err)) throw err;
      // fn swallowed an error: the server rolled the transaction back instead of committing it (the reset ran).
      if (err instanceof SwallowedFailure) {
        open = false;
        throw new Error(`withTenant("${id}"): the transaction failed inside fn and was rolled back; nothing was committed`, { cause: err });
      }
      // COMMIT itself failed (a deferred constraint, a serialization failure): the reset after it in
      // the same message never ran, so the outer catch rolls back and resets (or destroys) the session.
      throw err;
    }
    return result;
  } catch (err) {
    if (isConnectionLoss(err)) markBroken(client, err);
    else if (open) {
      await rollback(client);
      open = false;
    }
    throw err;
  } finally {
    if (isBroken(client) || open) await releaseClean(client);
    else client.release();
  }
}
