import type { Context } from '../context.js';

/**
 * The context of one server of the fleet: the same config, log, counters and
 * handle, with that server's pool and a cache of its own (a database's oid
 * differs per server). The home server's context is `ctx` itself. Every
 * single-server core function works unchanged on the context it is given, so
 * a tenant on another server is created, migrated and entered by the same code.
 */
export function serverContext(ctx: Context, name: string): Context {
  if (name === ctx.server) return ctx;
  const home = homeContext(ctx);
  if (name === 'default') return home;
  home.serverContexts ??= new Map();
  let other = home.serverContexts.get(name);
  if (!other) {
    other = { ...home, pool: home.servers.pool(name), server: name, cache: {}, serverContexts: undefined, home };
    home.serverContexts.set(name, other);
  }
  return other;
}

/** The home server's context, from any server's context. */
export function homeContext(ctx: Context): Context {
  return ctx.home ?? ctx;
}

/** Whether the handle knows more servers than the home one. */
export function isMultiServer(ctx: Context): boolean {
  return ctx.servers.names().length > 1;
}

/** What one server gave back from eachServer: its result, or what it threw. */
export type ServerOutcome<T> = { server: string; result: T; error?: undefined } | { server: string; result?: undefined; error: unknown };

/** Runs `fn` on every server of the fleet (or the named ones) at once, home first in the answer; nothing thrown escapes. */
export async function eachServer<T>(
  ctx: Context,
  fn: (sctx: Context) => Promise<T>,
  names: readonly string[] = homeContext(ctx).servers.names(),
): Promise<ServerOutcome<T>[]> {
  return Promise.all(
    names.map(async (server): Promise<ServerOutcome<T>> => {
      try {
        return { server, result: await fn(serverContext(ctx, server)) };
      } catch (error) {
        return { server, error };
      }
    }),
  );
}
