import { userInfo } from 'node:os';
import type { Config } from './config/types.js';
import type { PoolStats } from './db/connect.js';
import { ServerPools } from './db/servers.js';
import type { Pool } from './db/types.js';
import type { LoadedMigrations } from './migrations/types.js';
import { silentLogger, type Logger, type ProgressEvent } from './logger.js';

/** What init recorded about Citus on a server: the extension's version on the coordinator. */
export interface CitusMeta {
  version: string;
}

export interface Context {
  /** The pool of the server this context works on: the home server, unless it came from serverContext(). */
  pool: Pool;
  /** The name of that server: "default" for the home server, else a key of the config's `servers`. */
  server: string;
  /** Every server's pool, shared by the contexts of one handle. */
  servers: ServerPools;
  config: Config;
  log: Logger;
  stats: PoolStats;
  /** Who is acting, for the operations log: the OS user. */
  actor: string;
  onProgress?: (event: ProgressEvent) => void;
  /** Things worth computing once per process: migration files, the database's oid. */
  cache: {
    tenantMigrations?: LoadedMigrations;
    sharedMigrations?: LoadedMigrations;
    databaseOid?: number;
    /** What init recorded about Citus on this server (null: not Citus); read once. */
    citus?: CitusMeta | null;
  };
  /** The contexts of the other servers, made once each by serverContext(). */
  serverContexts?: Map<string, Context>;
  /** For another server's context: the home server's. */
  home?: Context;
}

export function createContext(
  pool: Pool,
  config: Config,
  options: { log?: Logger; stats?: PoolStats; onProgress?: Context['onProgress'] } = {},
): Context {
  let actor = 'unknown';
  try {
    actor = userInfo().username;
  } catch {
    // no passwd entry: keep "unknown"
  }
  const stats = options.stats ?? { roundTrips: 0 };
  return {
    pool,
    server: 'default',
    servers: new ServerPools(pool, config.servers, stats, config.concurrency + 2),
    config,
    log: options.log ?? silentLogger,
    stats,
    actor,
    onProgress: options.onProgress,
    cache: {},
  };
}
