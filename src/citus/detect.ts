import type { Context } from '../context.js';
import { controlReady } from '../control/ensure.js';
import { readCitus, recordCitus, type CitusMeta } from '../control/citus.js';
import type { Queryable } from '../db/types.js';
import { InputError } from '../errors.js';
import { DEFAULT_CITUS_CONFIG, type CitusConfig } from '../config/types.js';

/**
 * Whether the connected database is a Citus coordinator: the citus extension is
 * installed and this node is the coordinator. A worker is refused (exit 2):
 * tenant tables are made, moved and listed from the coordinator only.
 */
export async function detectCitus(db: Queryable): Promise<CitusMeta | null> {
  const r = await db.query<{ version: string | null }>(`SELECT extversion AS version FROM pg_catalog.pg_extension WHERE extname = 'citus'`);
  const version = r.rows[0]?.version;
  if (!version) return null;
  const role = await db.query<{ coordinator: boolean; workers: number }>(
    `SELECT citus_is_coordinator() AS coordinator,
            (SELECT count(*)::int FROM pg_dist_node WHERE noderole = 'primary' AND isactive AND groupid <> 0) AS workers`,
  );
  if (!role.rows[0]?.coordinator)
    throw new InputError(
      'citus_not_coordinator',
      'this database has the citus extension but is not its coordinator (or the coordinator is not set: SELECT citus_set_coordinator_host(...)); point tenantctl at the coordinator',
    );
  return { version };
}

/** Detects Citus and records it in the control meta (init, after the control schema is current). */
export async function detectAndRecordCitus(ctx: Context): Promise<CitusMeta | null> {
  const meta = await detectCitus(ctx.pool);
  await recordCitus(ctx.pool, ctx, meta);
  ctx.cache.citus = meta;
  return meta;
}

/** What init recorded about Citus on this context's server, read once per process (null: not Citus, or not initialised). */
export async function citusOf(ctx: Context): Promise<CitusMeta | null> {
  if (ctx.cache.citus !== undefined) return ctx.cache.citus;
  const meta = (await controlReady(ctx)) ? await readCitus(ctx.pool, ctx) : null;
  ctx.cache.citus = meta;
  return meta;
}

/** The Citus settings in effect: the config's "citus" key, or the defaults. */
export function citusConfig(ctx: Pick<Context, 'config'>): CitusConfig {
  return ctx.config.citus ?? DEFAULT_CITUS_CONFIG;
}

/** Exit 2 unless init recorded Citus on this server. */
export async function requireCitus(ctx: Context, what: string): Promise<CitusMeta> {
  const meta = await citusOf(ctx);
  if (!meta)
    throw new InputError(
      'not_citus',
      `${what} needs a Citus coordinator, and init recorded none here (run tenantctl init on the coordinator after CREATE EXTENSION citus)`,
    );
  return meta;
}
