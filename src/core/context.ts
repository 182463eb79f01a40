import { userInfo } from 'node:os';
import type { Config } from '../config/types.js';
import type { PoolStats } from '../db/connect.js';
import type { Pool } from '../db/types.js';
import type { LoadedMigrations } from '../migrations/types.js';

/** Where core functions send people's text. The library default says nothing. */
export interface Logger {
  info(line: string): void;
  warn(line: string): void;
  debug(line: string): void;
}

/** Progress of a fleet run: a tenant finished (ok or not). */
export interface ProgressEvent {
  id: string;
  status: string;
  done: number;
  failed: number;
  total: number;
}

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

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, debug: () => undefined };

export function createContext(pool: Pool, config: Config, options: { log?: Logger; stats?: PoolStats; onProgress?: Context['onProgress'] } = {}): Context {
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
