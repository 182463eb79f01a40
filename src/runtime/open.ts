import { loadConfig } from '../config/load.js';
import { resolveConfig } from '../config/resolve.js';
import type { Config, RawConfig } from '../config/types.js';
import { checkConnection, createPool, resolveConnection, type PoolStats } from '../db/connect.js';
import { createContext, type Context } from '../context.js';
import type { Logger, ProgressEvent } from '../logger.js';

export interface OpenOptions {
  /** A connection string; else DATABASE_URL, else the PG* variables, else the embedded Postgres. */
  databaseUrl?: string;
  /** Settings as in tenantctl.config.json; they beat the file. */
  config?: RawConfig;
  /** A config file to read (default: tenantctl.config.json in cwd, if present). */
  configFile?: string;
  /** Read the config file at all (default true). */
  readConfigFile?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  onProgress?: (event: ProgressEvent) => void;
}

export interface Tenantctl extends Context {
  /** How the database was chosen: flag, DATABASE_URL, PG*, or embedded. */
  connectionSource: string;
  /** Ends the pool and, for the embedded Postgres, stops the server. */
  close(): Promise<void>;
}

/**
 * Validated config, a connection and a pool sized for the configured
 * concurrency: everything a core function needs. Config errors are thrown
 * before any connection is made.
 */
export async function openTenantctl(options: OpenOptions = {}): Promise<Tenantctl> {
  const cwd = options.cwd ?? process.cwd();
  const config: Config =
    options.readConfigFile === false
      ? resolveConfig(options.config ?? {}, cwd)
      : loadConfig({ cwd, file: options.configFile, overrides: options.config });
  const target = await resolveConnection({ databaseUrl: options.databaseUrl, env: options.env, cwd, log: options.log?.info });
  const stats: PoolStats = { roundTrips: 0 };
  const pool = createPool(target, config.concurrency + 2, stats);
  const ctx = createContext(pool, config, { log: options.log, stats, onProgress: options.onProgress });
  const close = async () => {
    await ctx.servers.end();
    await pool.end().catch(() => undefined);
    await target.embedded?.stop();
  };
  try {
    await checkConnection(pool);
  } catch (err) {
    await close();
    throw err;
  }
  return Object.assign(ctx, { connectionSource: target.source, close });
}
