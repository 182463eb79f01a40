// INVALID indexes that tenants' non-transactional migrations made (an interrupted or failed CONCURRENTLY
// build), found for a whole fleet in one query, and rebuilt for one tenant.
import type { Queryable } from '../db/types.js';
import type { Context } from '../context.js';
import { serverContext } from '../runtime/servers.js';
import { buildOffline } from '../migrations/builder.js';
import type { LoadedMigration } from '../migrations/types.js';
import { qualified } from '../util/quote.js';
import { splitStatements } from './online-statements.js';

const COPY = /_cc(new|old)[0-9]*$/;

/** The names of the indexes that the non-transactional migrations among `files` create or reindex. */
export async function onlineIndexNames(files: readonly LoadedMigration[]): Promise<string[]> {
  const names = new Set<string>();
  for (const f of files) {
    const built = await buildOffline(f, 'up');
    if (built.transactional) continue;
    for (const st of await splitStatements(built.steps)) {
      const what = st.interruptible;
      if (what?.kind === 'create-index' && what.index) names.add(what.index.name);
      if (what?.kind === 'reindex' && what.object === 'index') names.add(what.target.name);
    }
  }
  return [...names];
}

/**
 * Per schema, its INVALID indexes named in `names`, and the copies REINDEX
 * CONCURRENTLY leaves of them (<name>_ccnew, _ccold): one query for any number
 * of schemas, none when there is nothing to look for.
 */
export async function invalidIndexes(db: Queryable, schemas: readonly string[], names: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (schemas.length === 0 || names.length === 0) return out;
  const r = await db.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name
       FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT i.indisvalid AND n.nspname = ANY($1::text[])
        AND (c.relname = ANY($2::text[]) OR regexp_replace(c.relname, '_cc(new|old)[0-9]*$', '') = ANY($2::text[]))
      ORDER BY 1, 2`,
    [schemas, names],
  );
  for (const row of r.rows) out.set(row.schema, [...(out.get(row.schema) ?? []), row.name]);
  return out;
}

/** invalidIndexes over a fleet on several servers: one query per server that holds any of these tenants. */
export async function fleetInvalidIndexes(
  ctx: Context,
  tenants: readonly { schema: string; server: string }[],
  names: readonly string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (tenants.length === 0 || names.length === 0) return out;
  const byServer = new Map<string, string[]>();
  for (const t of tenants) byServer.set(t.server, [...(byServer.get(t.server) ?? []), t.schema]);
  const found = await Promise.all(
    [...byServer].map(([server, schemas]) => invalidIndexes(serverContext(ctx, server).pool, schemas, names)),
  );
  for (const m of found) for (const [k, v] of m) out.set(k, v);
  return out;
}

/**
 * Rebuilds one tenant's INVALID indexes outside a transaction: a leftover copy
 * of REINDEX CONCURRENTLY is dropped, any other is rebuilt with REINDEX INDEX
 * CONCURRENTLY. Returns what is still INVALID afterwards (nothing, unless the
 * build itself failed, e.g. a unique index over duplicates, which throws).
 */
export async function rebuildInvalid(db: Queryable, schema: string, names: readonly string[]): Promise<string[]> {
  const found = (await invalidIndexes(db, [schema], names)).get(schema) ?? [];
  for (const name of found.filter((n) => COPY.test(n))) await db.query(`DROP INDEX CONCURRENTLY IF EXISTS ${qualified(schema, name)}`); // qualified() quotes both names
  for (const name of found.filter((n) => !COPY.test(n))) await db.query(`REINDEX INDEX CONCURRENTLY ${qualified(schema, name)}`); // qualified() quotes both names
  return (await invalidIndexes(db, [schema], names)).get(schema) ?? [];
}
