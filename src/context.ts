import { userInfo } from 'node:os';
import type { Config } from './config/types.js';
import type { PoolStats } from './db/connect.js';
import type { Pool } from './db/types.js';
import type { LoadedMigrations } from './migrations/types.js';
import { silentLogger, type Logger, type ProgressEvent } from './logger.js';

export interface Context {
  pool: Pool;
  config: Config;
  log: Logger;
  stats: PoolStats;
  /** Who is acting, for the operations log: the OS user. */
  actor: string;
  onProgress?: (event: ProgressEvent) => void;
  /** Things worth computing once per process: migration files, the database's oid. */
  cache: { tenantMigrations?: LoadedMigrations; sharedMigrations?: LoadedMigrations; databaseOid?: number };
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
  return {
    pool,
    config,
    log: options.log ?? silentLogger,
    stats: options.stats ?? { roundTrips: 0 },
    actor,
    onProgress: options.onProgress,
    cache: {},
  };
}
